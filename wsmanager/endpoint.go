package wsmanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ssotkit/ssot/auth"
)

// EndpointOptions configures NewEndpoint. The zero value is ready to use.
// NewEndpoint copies it; Thread and RequestID are called concurrently, once
// per request.
type EndpointOptions struct {
	// Subprotocol is echoed to clients that offer it, typically next to a
	// subprotocol carrying their token: browsers refuse a handshake that
	// selects none of the subprotocols they offered. It is never a token.
	// Defaults to "": none is echoed.
	Subprotocol string
	// CloseAfterUpgrade makes authentication failures upgrade the
	// connection and then close it with auth.CloseCode, which browsers can
	// read (they cannot read an HTTP status of a failed handshake).
	// Defaults to false: a plain HTTP 401 or 503 before upgrading.
	CloseAfterUpgrade bool
	// Thread returns the ThreadID of a request, for example from a path or
	// query parameter. Defaults to nil: every connection of a user shares
	// the ThreadID "".
	Thread func(*http.Request) string
	// RequestID returns the RequestID recorded in the UserContext, for
	// example the request-ID middleware's. Defaults to nil: none.
	RequestID func(*http.Request) string
}

// NewEndpoint returns the golden path as one http.Handler: authenticate the
// request with a (token from the Authorization header or a subprotocol, as
// a's Extractor allows), register the connection with the user's Manager
// from f, upgrade it with up, echoing opts.Subprotocol, and Serve it with h
// until it closes.
//
// The connection is registered before the upgrade, and Options.OnConnect
// runs then, so by the time the client sees the handshake complete, messages
// sent to its user and thread are queued for it: they are delivered, in
// order, once it reaches ProcessingReady. If the upgrade fails, the
// registration is released and queued messages are dropped.
//
// Requests refused before the upgrade get a plain HTTP error and are never
// upgraded: 401 or 503 (auth.HTTPStatus) when authentication fails, unless
// opts.CloseAfterUpgrade; 400 when Thread returns an invalid ThreadID; 429
// when the user has MaxManagersPerUser threads or the thread has
// MaxConnsPerManager connections; 503 after f is closed. The response names
// no token and no internal error.
//
// Handlers can read the caller's identity with IdentityFrom on the context
// they receive. NewEndpoint returns an error wrapping ErrInvalidOptions if
// f, a, up or h is nil.
func NewEndpoint(f *Factory, a *auth.Unified, up Upgrader, h Handler, opts EndpointOptions) (http.Handler, error) {
	switch {
	case f == nil:
		return nil, fmt.Errorf("%w: nil Factory", ErrInvalidOptions)
	case a == nil:
		return nil, fmt.Errorf("%w: nil Unified", ErrInvalidOptions)
	case up == nil:
		return nil, fmt.Errorf("%w: nil Upgrader", ErrInvalidOptions)
	case h == nil:
		return nil, fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	}
	return &endpoint{f: f, a: a, up: up, h: h, opts: opts}, nil
}

type endpoint struct {
	f    *Factory
	a    *auth.Unified
	up   Upgrader
	h    Handler
	opts EndpointOptions
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := e.a.AuthenticateRequest(r)
	if err != nil {
		e.refuse(w, r, err)
		return
	}
	uc := UserContext{UserID: id.UserID}
	if e.opts.Thread != nil {
		uc.ThreadID = e.opts.Thread(r)
	}
	if e.opts.RequestID != nil {
		uc.RequestID = e.opts.RequestID(r)
	}
	// Register the connection before upgrading: once the client sees the
	// handshake complete, messages sent to it are queued, never lost.
	// Refusals are answered in plain HTTP, which every client understands,
	// before paying for an upgrade.
	ctx := context.WithValue(r.Context(), identityKey{}, id)
	res, err := e.f.Reserve(ctx, uc)
	if err != nil {
		switch {
		case errors.Is(err, ErrInvalidUser):
			http.Error(w, "invalid thread", http.StatusBadRequest)
		case errors.Is(err, ErrUserLimit):
			http.Error(w, "too many threads", http.StatusTooManyRequests)
		case errors.Is(err, ErrConnLimit):
			http.Error(w, "too many connections", http.StatusTooManyRequests)
		default:
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		}
		return
	}
	conn, err := e.up.Upgrade(w, r, e.opts.Subprotocol)
	if err != nil {
		res.Release()
		e.f.log.Debug("wsmanager: upgrade failed", "err", err)
		return
	}
	// A nil conn (a broken Upgrader) releases the reservation and is
	// reported as ErrInvalidOptions.
	if err := res.Serve(conn, e.h); err != nil {
		e.f.log.Debug("wsmanager: connection ended", "user", uc.UserID, "thread", uc.ThreadID, "request", uc.RequestID, "err", err)
	}
}

// refuse answers a request whose authentication failed.
func (e *endpoint) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if !e.opts.CloseAfterUpgrade {
		status := auth.HTTPStatus(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	conn, uerr := e.up.Upgrade(w, r, e.opts.Subprotocol)
	if uerr != nil || conn == nil {
		return
	}
	code := auth.CloseCode(err)
	_ = conn.Close(code, closeReason(code))
}

// closeReason is the reason sent with an authentication close code: what
// the client can act on, nothing about why the backend said no.
func closeReason(code int) string {
	switch code {
	case codePolicy:
		return "unauthorized"
	case codeTryAgain:
		return "try again later"
	}
	return reasonInternal
}

type identityKey struct{}

// IdentityFrom returns the identity NewEndpoint authenticated, from the
// context a Handler receives (or Connection.Context).
func IdentityFrom(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}
