package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
	"github.com/ssotkit/ssot/middleware"
)

func unified(t *testing.T, backend auth.Authenticator) *auth.Unified {
	t.Helper()
	u, err := auth.New(backend, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := u.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return u
}

func staticUnified(t *testing.T) *auth.Unified {
	t.Helper()
	st, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Test)
	if err != nil {
		t.Fatal(err)
	}
	return unified(t, st)
}

// authenticate is middleware.NewAuthenticate for arguments the test knows
// to be valid.
func authenticate(t *testing.T, a *auth.Unified, opts middleware.AuthOptions) middleware.Middleware {
	t.Helper()
	m, err := middleware.NewAuthenticate(a, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func whoAmI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := middleware.IdentityFrom(r.Context())
		if !ok {
			_, _ = w.Write([]byte("anonymous"))
			return
		}
		_, _ = w.Write([]byte(id.UserID))
	})
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	h := build(t, whoAmI(), authenticate(t, staticUnified(t), middleware.AuthOptions{Realm: "chat"}))
	tests := []struct {
		name      string
		header    string
		status    int
		body      string
		challenge string
	}{
		{"valid token", "Bearer alice-token", 200, "alice", ""},
		{"scheme is case-insensitive", "bEaReR alice-token", 200, "alice", ""},
		{"no token", "", 401, "Unauthorized", `Bearer realm="chat"`},
		{"other scheme", "Basic YWxpY2U6cHc=", 401, "Unauthorized", `Bearer realm="chat"`},
		{"unknown token", "Bearer mallory-token", 401, "Unauthorized", `Bearer realm="chat", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/api/me", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if strings.Contains(w.Body.String(), "token") && tt.status != 200 {
				t.Errorf("body %q mentions the token", w.Body.String())
			}
		})
	}
}

func TestAuthenticateUnavailableIs503(t *testing.T) {
	t.Parallel()
	down := auth.Func(func(context.Context, string) (auth.Identity, error) {
		return auth.Identity{}, errors.New("connection refused to idp.internal")
	})
	h := build(t, whoAmI(), authenticate(t, unified(t, down), middleware.AuthOptions{}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer some-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", w.Code)
	}
	if w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("headers = %v: want Retry-After and no challenge", w.Header())
	}
	if strings.Contains(w.Body.String(), "idp.internal") {
		t.Errorf("body leaks the backend error: %q", w.Body.String())
	}
}

func TestAuthenticateSkip(t *testing.T) {
	t.Parallel()
	h := build(t, whoAmI(), authenticate(t, staticUnified(t), middleware.AuthOptions{
		Skip: []string{"/", "/healthz", "/static/"},
	}))
	tests := []struct {
		path    string
		skipped bool
	}{
		{"/", true},
		{"/healthz", true},
		{"/static/", true},
		{"/static/app.js", true},
		{"/static/css/site.css", true},
		{"/api/me", false}, // "/" is the root, not a prefix of everything
		{"/healthz/", false},
		{"/healthzx", false},
		{"/x/healthz", false}, // never a substring
		{"/static", false},
		{"/staticx/app.js", false},
		{"/static/../api/me", false},
		{"/static/./app.js", false},
		{"/static//app.js", false},
		{"//healthz", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.URL.Path = tt.path
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			skipped := w.Code == 200 && w.Body.String() == "anonymous"
			if skipped != tt.skipped {
				t.Errorf("path %q: skipped = %v (status %d), want %v", tt.path, skipped, w.Code, tt.skipped)
			}
		})
	}
}

func TestAuthenticateInvalidConstruction(t *testing.T) {
	t.Parallel()
	// The deprecated form must still fail New rather than build a chain.
	if _, err := middleware.New(middleware.Authenticate(nil, middleware.AuthOptions{})); !errors.Is(err, middleware.ErrInvalid) {
		t.Errorf("New with a nil authenticator = %v, want ErrInvalid", err)
	}
	if _, err := middleware.NewAuthenticate(nil, middleware.AuthOptions{}); !errors.Is(err, middleware.ErrInvalid) {
		t.Errorf("NewAuthenticate(nil) = %v", err)
	}
	_, err := middleware.NewAuthenticate(staticUnified(t), middleware.AuthOptions{Skip: []string{"healthz"}})
	if !errors.Is(err, middleware.ErrInvalid) || !strings.Contains(err.Error(), "healthz") {
		t.Errorf("relative Skip entry = %v", err)
	}
}

func TestStandardChain(t *testing.T) {
	t.Parallel()
	logger, _ := testlog.New()
	c, err := middleware.Standard(middleware.StandardOptions{
		Logger:      logger,
		Session:     &middleware.SessionOptions{Keys: [][]byte{testKey(1)}},
		Auth:        staticUnified(t),
		AuthOptions: middleware.AuthOptions{Skip: []string{"/healthz"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "recover → request_id → session → auth" {
		t.Errorf("order = %q", got)
	}
	// The declared dependencies keep the order when the chain grows.
	if _, err := c.Append(middleware.Middleware{Name: "late_recover", Wrap: middleware.Recover(nil).Wrap, After: []string{"auth"}}); err != nil {
		t.Errorf("appending after auth: %v", err)
	}
	h, err := c.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hasSession := middleware.SessionFrom(r.Context())
		_, hasID := middleware.RequestIDFrom(r.Context())
		id, _ := middleware.IdentityFrom(r.Context())
		if !hasSession || !hasID || id.UserID != "alice" {
			t.Errorf("session %v, request id %v, user %q", hasSession, hasID, id.UserID)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer alice-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("X-Request-Id") == "" {
		t.Errorf("status %d, request id %q", w.Code, w.Header().Get("X-Request-Id"))
	}

	without, err := middleware.Standard(middleware.StandardOptions{Auth: staticUnified(t)})
	if err != nil || without.String() != "recover → request_id → auth" {
		t.Errorf("without a session: %q, %v", without.String(), err)
	}
	if _, err := middleware.Standard(middleware.StandardOptions{}); !errors.Is(err, middleware.ErrInvalid) {
		t.Errorf("Standard without Auth = %v", err)
	}
	if _, err := middleware.Standard(middleware.StandardOptions{Auth: staticUnified(t), Session: &middleware.SessionOptions{}}); !errors.Is(err, middleware.ErrWeakSecret) {
		t.Errorf("Standard with a keyless session = %v", err)
	}
}

// TestIdentityHasOneHome checks that the identity the "auth" middleware
// stores is the one auth.IdentityFrom finds, and the other way round, so
// that code reading it with either name (an HTTP handler, a WebSocket
// handler) sees the same identity.
func TestIdentityHasOneHome(t *testing.T) {
	t.Parallel()
	var fromAuth, fromMiddleware auth.Identity
	h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fromAuth, _ = auth.IdentityFrom(r.Context())
		fromMiddleware, _ = middleware.IdentityFrom(r.Context())
	}), authenticate(t, staticUnified(t), middleware.AuthOptions{}))
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer alice-token")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if fromAuth.UserID != "alice" || fromMiddleware.UserID != "alice" {
		t.Errorf("auth.IdentityFrom = %q, middleware.IdentityFrom = %q, want alice for both", fromAuth.UserID, fromMiddleware.UserID)
	}

	ctx := auth.WithIdentity(context.Background(), auth.Identity{UserID: "bob"})
	if id, ok := middleware.IdentityFrom(ctx); !ok || id.UserID != "bob" {
		t.Errorf("middleware.IdentityFrom after auth.WithIdentity = %q, %v; want bob", id.UserID, ok)
	}
}
