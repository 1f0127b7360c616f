package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/auth"
)

// idp is an RFC 7662 introspection endpoint that knows a fixed set of tokens.
func idp(t *testing.T, clientID, secret string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if clientID != "" {
			// RFC 6749 section 2.3.1: credentials are form-encoded first.
			id, pw, ok := r.BasicAuth()
			id, _ = url.QueryUnescape(id)
			pw, _ = url.QueryUnescape(pw)
			if !ok || id != clientID || pw != secret {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		var resp map[string]any
		switch r.PostFormValue("token") {
		case "good":
			resp = map[string]any{"active": true, "sub": "alice", "email": "alice@example.com", "scope": "chat read", "exp": time.Now().Add(time.Hour).Unix()}
		case "username-only":
			resp = map[string]any{"active": true, "username": "bob"}
		case "expired":
			resp = map[string]any{"active": true, "sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}
		case "no-subject":
			resp = map[string]any{"active": true}
		default:
			resp = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	srv := idp(t, "svc", "s3cret&=")
	in, err := auth.NewIntrospection(srv.URL, srv.Client(), auth.IntrospectionOptions{ClientID: "svc", ClientSecret: "s3cret&="})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := in.Authenticate(ctx, "good")
	if err != nil {
		t.Fatal(err)
	}
	if id.ExpiresAt.IsZero() {
		t.Error("exp not mapped")
	}
	id.ExpiresAt = time.Time{}
	if diff := cmp.Diff(auth.Identity{UserID: "alice", Email: "alice@example.com", Scopes: []string{"chat", "read"}}, id); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if id, err := in.Authenticate(ctx, "username-only"); err != nil || id.UserID != "bob" {
		t.Errorf("username fallback: %+v, %v", id, err)
	}
	for tok, want := range map[string]error{"revoked": auth.ErrInvalidToken, "expired": auth.ErrExpired, "no-subject": auth.ErrInvalidToken} {
		if _, err := in.Authenticate(ctx, tok); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", tok, err, want)
		}
	}
	wrongCreds, _ := auth.NewIntrospection(srv.URL, srv.Client(), auth.IntrospectionOptions{ClientID: "svc", ClientSecret: "nope"})
	if _, err := wrongCreds.Authenticate(ctx, "good"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("rejected client credentials = %v, want ErrUnavailable", err)
	}
}

func TestIntrospectionFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    auth.IntrospectionOptions
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, auth.IntrospectionOptions{}},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>tok-SECRET-3</html>")) }, auth.IntrospectionOptions{}},
		{"no active member", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"sub":"x"}`)) }, auth.IntrospectionOptions{}},
		{"wrong type", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"active":"yes"}`)) }, auth.IntrospectionOptions{}},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"active":true,"sub":"` + strings.Repeat("a", 2048) + `"}`))
		}, auth.IntrospectionOptions{MaxBody: 1024}},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
		}, auth.IntrospectionOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			in, err := auth.NewIntrospection(srv.URL, srv.Client(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err = in.Authenticate(ctx, "tok-SECRET-3")
			if !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "html") {
				t.Errorf("error %q leaks the token or the body", err)
			}
		})
	}
}

func TestIntrospectionBehindUnified(t *testing.T) {
	t.Parallel()
	srv := idp(t, "", "")
	in, err := auth.NewIntrospection(srv.URL, nil, auth.IntrospectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u := newUnified(t, in, auth.Options{})
	for range 3 {
		if id, err := u.Authenticate(context.Background(), "good"); err != nil || id.UserID != "alice" {
			t.Fatalf("%+v, %v", id, err)
		}
	}
	if st := u.Stats(); st.BackendCalls != 1 || st.Hits != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestNewIntrospectionValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		endpoint string
		opts     auth.IntrospectionOptions
	}{
		{"", auth.IntrospectionOptions{}},
		{"/introspect", auth.IntrospectionOptions{}},
		{"ftp://idp/introspect", auth.IntrospectionOptions{}},
		{"https://idp/introspect", auth.IntrospectionOptions{ClientSecret: "s"}},
		{"https://idp/introspect", auth.IntrospectionOptions{MaxBody: -1}},
	} {
		if _, err := auth.NewIntrospection(tc.endpoint, nil, tc.opts); !errors.Is(err, auth.ErrInvalidOptions) {
			t.Errorf("NewIntrospection(%q, %+v) = %v", tc.endpoint, tc.opts, err)
		}
	}
}
