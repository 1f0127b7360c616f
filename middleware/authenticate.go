package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ssotkit/ssot/auth"
)

// AuthOptions configures Authenticate, which copies it. The zero value
// authenticates every request.
type AuthOptions struct {
	// Skip lists paths served without authentication. "/" matches only the
	// root; any other entry ending in "/" matches that prefix; other entries
	// match exactly. Entries never match as substrings, and a request path
	// with ".", ".." or empty segments is never skipped. Every entry must
	// start with "/".
	Skip []string
	// Realm is sent in the WWW-Authenticate challenge. Defaults to "api".
	Realm string
}

type identityKey struct{}

// Authenticate returns the "auth" middleware: it authenticates every request
// not skipped with a.AuthenticateRequest and stores the identity in the
// request context, where IdentityFrom finds it. On failure it answers
// auth.HTTPStatus(err) — 401 with a WWW-Authenticate Bearer challenge for a
// missing or bad token, 503 with Retry-After when authentication is
// unavailable — and never calls the next handler.
//
// With a nil authenticator or invalid options it returns a Middleware whose
// Wrap is nil, which New and Append report as ErrInvalid; NewAuthenticate
// returns the reason instead.
func Authenticate(a *auth.Unified, opts AuthOptions) Middleware {
	m, err := NewAuthenticate(a, opts)
	if err != nil {
		return Middleware{Name: "auth"}
	}
	return m
}

// NewAuthenticate is Authenticate returning an error wrapping ErrInvalid for
// a nil authenticator or a Skip entry that does not start with "/".
func NewAuthenticate(a *auth.Unified, opts AuthOptions) (Middleware, error) {
	if a == nil {
		return Middleware{}, fmt.Errorf("%w: auth: nil authenticator", ErrInvalid)
	}
	for _, s := range opts.Skip {
		if !strings.HasPrefix(s, "/") {
			return Middleware{}, fmt.Errorf("%w: auth: Skip entry %q does not start with /", ErrInvalid, s)
		}
	}
	skip := newSkipper(opts.Skip)
	realm := opts.Realm
	if realm == "" {
		realm = "api"
	}
	challenge := `Bearer realm="` + strings.ReplaceAll(realm, `"`, "") + `"`
	invalidChallenge := challenge + `, error="invalid_token"`
	return Middleware{Name: "auth", Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip.match(r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			id, err := a.AuthenticateRequest(r)
			if err == nil {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
				return
			}
			status := auth.HTTPStatus(err)
			switch status {
			case http.StatusUnauthorized:
				if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrExpired) {
					w.Header().Set("WWW-Authenticate", invalidChallenge)
				} else {
					w.Header().Set("WWW-Authenticate", challenge)
				}
			case http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", "5")
			}
			http.Error(w, http.StatusText(status), status)
		})
	}}, nil
}

// IdentityFrom returns the identity that Authenticate stored in ctx.
func IdentityFrom(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}

// skipper matches request paths against AuthOptions.Skip.
type skipper struct {
	exact    map[string]bool
	prefixes []string
}

func newSkipper(entries []string) skipper {
	s := skipper{exact: make(map[string]bool)}
	for _, e := range entries {
		if e != "/" && strings.HasSuffix(e, "/") {
			s.prefixes = append(s.prefixes, e)
		} else {
			s.exact[e] = true
		}
	}
	return s
}

func (s skipper) match(path string) bool {
	if len(s.exact) == 0 && len(s.prefixes) == 0 {
		return false
	}
	if !cleanPath(path) {
		return false
	}
	if s.exact[path] {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// cleanPath reports whether path is absolute and has no ".", ".." or empty
// segments (a trailing slash is allowed).
func cleanPath(path string) bool {
	if !strings.HasPrefix(path, "/") {
		return false
	}
	rest := path[1:]
	for rest != "" {
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		if !more {
			break
		}
		rest = tail
	}
	return true
}
