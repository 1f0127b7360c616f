package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/internal/testkit/testlog"
	"github.com/ssotkit/ssot/middleware"
)

func TestRecoverTurnsAPanicIntoA500(t *testing.T) {
	t.Parallel()
	logger, logs := testlog.New()
	h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Partial", "yes")
		panic("secret-detail-in-panic")
	}), middleware.Recover(logger), middleware.RequestID())
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/boom", nil)
	r.Header.Set("X-Request-Id", "req-42")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", w.Code)
	}
	if body := w.Body.String(); strings.Contains(body, "secret-detail") || !strings.Contains(body, "Internal Server Error") {
		t.Errorf("body = %q: want a generic message, without the panic", body)
	}
	if w.Header().Get("X-Request-Id") != "req-42" {
		t.Error("the 500 lost the request ID header")
	}
	if w.Header().Get("X-Partial") != "" {
		t.Error("headers set before the panic leaked into the 500")
	}
	out := logs.String()
	for _, want := range []string{"handler panicked", "secret-detail-in-panic", "path=/boom", "request_id=req-42", "recover_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRecoverAbortsAStartedResponse(t *testing.T) {
	t.Parallel()
	logger, _ := testlog.New()
	h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		panic("late")
	}), middleware.Recover(logger))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	t.Error("a panic after the response started did not abort it")
}

func TestRecoverRepanicsErrAbortHandler(t *testing.T) {
	t.Parallel()
	logger, logs := testlog.New()
	wrapped := errors.Join(errors.New("context"), http.ErrAbortHandler)
	h := build(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(wrapped) }), middleware.Recover(logger))
	defer func() {
		if p := recover(); p != wrapped {
			t.Errorf("recovered %v, want the original ErrAbortHandler panic", p)
		}
		if logs.String() != "" {
			t.Errorf("ErrAbortHandler was logged: %s", logs)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestRecoverOverARealServer(t *testing.T) {
	t.Parallel()
	logger, _ := testlog.New()
	srv := httptest.NewServer(build(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }), middleware.Recover(logger)))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d", resp.StatusCode)
	}
}
