package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssotkit/ssot/auth"
)

// AuthOptions configures NewAuthenticate, which copies it. The zero value
// authenticates every request.
type AuthOptions struct {
	// Skip lists paths served without authentication. "/" matches only the
	// root; any other entry ending in "/" matches that prefix; other entries
	// match exactly. Entries never match as substrings.
	//
	// A request is skipped only when its path as sent, r.URL.EscapedPath()
	// (the form http.ServeMux and other routers match), is a skipped path
	// spelled plainly. It is authenticated when that path has ".", ".." or
	// empty segments, an escaped "/", "\", "." or "%" (%2F, %5C, %2E or
	// %25, in either case), or spells a skipped path with other escapes
	// (/%70ublic/ for /public/), because a router may send such a path to a
	// handler that is not skipped.
	//
	// Every entry must start with "/" and have no ".", ".." or empty
	// segments, which could never match.
	Skip []string
	// Realm is sent in the WWW-Authenticate challenge. Defaults to "api".
	Realm string
}

// Authenticate is NewAuthenticate without the error: with a nil
// authenticator or invalid options it returns a Middleware whose Wrap is
// nil, which New and Append report as ErrInvalid without the reason, and
// which panics if called directly.
//
// Deprecated: use NewAuthenticate, which returns the reason, so that a
// misconfigured service fails at start-up with an error that says why.
func Authenticate(a *auth.Unified, opts AuthOptions) Middleware {
	m, err := NewAuthenticate(a, opts)
	if err != nil {
		return Middleware{Name: "auth"}
	}
	return m
}

// NewAuthenticate returns the "auth" middleware: it authenticates every
// request not skipped (see AuthOptions.Skip) with a.AuthenticateRequest and
// stores the identity in the request context with auth.WithIdentity, where
// auth.IdentityFrom (and IdentityFrom) finds it. On failure it answers
// auth.HTTPStatus(err) — 401 with a WWW-Authenticate Bearer challenge for a
// missing or bad token, 503 with Retry-After when authentication is
// unavailable — and never calls the next handler.
//
// It returns an error wrapping ErrInvalid for a nil authenticator or a Skip
// entry that does not start with "/" or has ".", ".." or empty segments.
func NewAuthenticate(a *auth.Unified, opts AuthOptions) (Middleware, error) {
	if a == nil {
		return Middleware{}, fmt.Errorf("%w: auth: nil authenticator", ErrInvalid)
	}
	skip, err := newSkipper(opts.Skip)
	if err != nil {
		return Middleware{}, err
	}
	realm := opts.Realm
	if realm == "" {
		realm = "api"
	}
	challenge := `Bearer realm="` + strings.ReplaceAll(realm, `"`, "") + `"`
	invalidChallenge := challenge + `, error="invalid_token"`
	return Middleware{Name: "auth", Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip.match(r.URL.EscapedPath()) {
				next.ServeHTTP(w, r)
				return
			}
			id, err := a.AuthenticateRequest(r)
			if err == nil {
				next.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), id)))
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

// IdentityFrom returns the identity that the "auth" middleware, or
// wsmanager's endpoint, stored in ctx. It is auth.IdentityFrom: the
// identity has one context key, in package auth.
func IdentityFrom(ctx context.Context) (auth.Identity, bool) { return auth.IdentityFrom(ctx) }

// skipper matches escaped request paths against AuthOptions.Skip, whose
// entries it holds escaped.
type skipper struct {
	exact    map[string]bool
	prefixes []string
}

func newSkipper(entries []string) (skipper, error) {
	s := skipper{exact: make(map[string]bool)}
	for _, e := range entries {
		if !strings.HasPrefix(e, "/") {
			return skipper{}, fmt.Errorf("%w: auth: Skip entry %q does not start with /", ErrInvalid, e)
		}
		escaped := (&url.URL{Path: e}).EscapedPath()
		if !cleanPath(escaped) || hasEncodedSeparator(escaped) {
			return skipper{}, fmt.Errorf("%w: auth: Skip entry %q has \".\", \"..\" or empty segments and could never match", ErrInvalid, e)
		}
		if e != "/" && strings.HasSuffix(e, "/") {
			s.prefixes = append(s.prefixes, escaped)
		} else {
			s.exact[escaped] = true
		}
	}
	return s, nil
}

// match reports whether the escaped path is skipped. An exact entry
// passed the path checks when it was stored, so a path equal to it passes
// them; a path under a prefix entry is checked, and only such a path: a
// request that matches no entry pays for no check.
func (s skipper) match(path string) bool {
	if s.exact[path] {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(path, p) {
			return cleanPath(path) && !hasEncodedSeparator(path)
		}
	}
	return false
}

// hasEncodedSeparator reports whether an escaped path holds something a
// router or a handler may turn into a separator or a new escape: a "\", or
// an escaped "/", "\", "." or "%". A malformed escape counts too.
func hasEncodedSeparator(path string) bool {
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			return true
		case '%':
			if i+2 >= len(path) {
				return true
			}
			switch strings.ToUpper(path[i+1 : i+3]) {
			case "2F", "5C", "2E", "25":
				return true
			}
			if !isHex(path[i+1]) || !isHex(path[i+2]) {
				return true
			}
			i += 2
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
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
