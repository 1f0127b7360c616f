package middleware

import (
	"fmt"
	"log/slog"

	"github.com/ssotkit/ssot/auth"
)

// StandardOptions configures Standard. The zero value has no Auth and is
// ErrInvalid; every other field is optional.
type StandardOptions struct {
	// Logger is given to Recover and Session. Defaults to slog.Default().
	Logger *slog.Logger
	// Session, when non-nil, adds the session middleware with these
	// options; its Logger defaults to Logger.
	Session *SessionOptions
	// Auth authenticates every request not skipped by AuthOptions. Required:
	// a service without authentication builds its chain with New.
	Auth        *auth.Unified
	AuthOptions AuthOptions
}

// Standard returns the recommended chain, outermost first:
//
//	recover → request_id → session → auth
//
// recover is outermost so that a panic anywhere, the other middlewares
// included, becomes a logged 500; request_id comes next so every log line
// and response carries the ID; the session (when configured) is loaded
// before auth so handlers can rely on both. The chain declares these
// dependencies in After, so Append can add more middlewares but cannot put
// one of these out of order. A nil Auth is ErrInvalid; session errors are
// Session's.
func Standard(opts StandardOptions) (Chain, error) {
	if opts.Auth == nil {
		return Chain{}, fmt.Errorf("%w: standard chain: nil Auth (build a chain without authentication with New)", ErrInvalid)
	}
	ms := []Middleware{Recover(opts.Logger)}
	rid := RequestID()
	rid.After = []string{"recover"}
	ms = append(ms, rid)
	authAfter := []string{"recover", "request_id"}
	if opts.Session != nil {
		so := *opts.Session
		if so.Logger == nil {
			so.Logger = opts.Logger
		}
		s, err := Session(so)
		if err != nil {
			return Chain{}, err
		}
		s.After = []string{"recover", "request_id"}
		ms = append(ms, s)
		authAfter = append(authAfter, "session")
	}
	a, err := NewAuthenticate(opts.Auth, opts.AuthOptions)
	if err != nil {
		return Chain{}, err
	}
	a.After = authAfter
	ms = append(ms, a)
	return New(ms...)
}
