package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

func TestRequestID(t *testing.T) {
	t.Parallel()
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name     string
		incoming []string
		keep     bool
	}{
		{"none", nil, false},
		{"well formed", []string{"abc-DEF_012.x"}, true},
		{"max length", []string{strings.Repeat("a", middleware.MaxRequestIDLen)}, true},
		{"too long", []string{strings.Repeat("a", middleware.MaxRequestIDLen+1)}, false},
		{"empty", []string{""}, false},
		{"spaces", []string{"a b"}, false},
		{"log injection", []string{"x\nlevel=ERROR"}, false},
		{"html", []string{"<script>"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var seen string
			var ok bool
			h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen, ok = middleware.RequestIDFrom(r.Context())
			}), middleware.RequestID())
			r := httptest.NewRequest("GET", "/", nil)
			for _, v := range tt.incoming {
				r.Header["X-Request-Id"] = []string{v}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if !ok {
				t.Fatal("no request ID in the context")
			}
			if w.Header().Get("X-Request-Id") != seen {
				t.Errorf("response header %q != context %q", w.Header().Get("X-Request-Id"), seen)
			}
			if tt.keep {
				if seen != tt.incoming[0] {
					t.Errorf("ID = %q, want the incoming %q", seen, tt.incoming[0])
				}
			} else if !generated.MatchString(seen) {
				t.Errorf("ID = %q, want a generated one", seen)
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	h := build(t, http.NotFoundHandler(), middleware.RequestID())
	seen := map[string]bool{}
	for range 1000 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		id := w.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request ID %q generated twice", id)
		}
		seen[id] = true
	}
	if _, ok := middleware.RequestIDFrom(httptest.NewRequest("GET", "/", nil).Context()); ok {
		t.Error("RequestIDFrom found an ID outside the middleware")
	}
}
