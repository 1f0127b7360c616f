package wsmanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ssotkit/ssot/auth"
)

// EndpointOptions configures NewEndpoint. The zero value is ready to use.
// NewEndpoint copies it; Thread and RequestID are called concurrently, once
// per request.
type EndpointOptions struct {
	// Subprotocol is echoed to clients that offer it, typically next to a
	// subprotocol carrying their token ("bearer.<base64url(token)>", how a
	// browser, which cannot set headers on a WebSocket, sends one): browsers
	// refuse a handshake that selects none of the subprotocols they
	// offered. It is never a token. Defaults to "": the endpoint then
	// echoes, to a client that sent its token as a subprotocol, the first
	// other protocol that client offered, and none to the others. A client
	// that offers its token alone, with no protocol beside it, is refused
	// with HTTP 400 saying so (auth.ErrTokenProtocolAlone).
	Subprotocol string
	// RequireSubprotocol refuses, with HTTP 400 before authenticating or
	// upgrading, a request that does not offer Subprotocol: a client that
	// does not speak the application's protocol never gets a connection.
	// It needs Subprotocol. Defaults to false.
	RequireSubprotocol bool
	// CloseAfterUpgrade makes refusals upgrade the connection and then
	// close it with a code browsers can read (they cannot read the HTTP
	// status of a failed handshake): authentication failures with
	// auth.CloseCode, the connection, thread and factory limits with 1013.
	// Defaults to false: plain HTTP errors before upgrading.
	CloseAfterUpgrade bool
	// Thread returns the ThreadID of a request, for example from a path or
	// query parameter. Defaults to nil: every connection of a user shares
	// the ThreadID "".
	Thread func(*http.Request) string
	// RequestID returns the RequestID recorded in the UserContext, for
	// example the request-ID middleware's. Defaults to nil: none.
	RequestID func(*http.Request) string
	// Detach serves each connection with Reservation.Go and returns from
	// ServeHTTP once the connection is being served: net/http's goroutine,
	// and the stack it grew handling the request, are released. A pull
	// transport's connection is then read on a goroutine of the Factory's;
	// a PushConn's (contrib/nbiows) holds no goroutine while idle. The
	// connection's context then keeps the request's
	// values but not its cancellation. It suits transports that hijack the
	// HTTP connection, as every contrib adapter does over HTTP/1.1; a
	// transport that serves the WebSocket inside the handler (over HTTP/2,
	// say) must not be detached. Defaults to false.
	Detach bool
	// Resume returns the position a reconnecting client presents, in
	// Position.String's form, or "" for none; with Options.History the
	// connection resumes from it (Factory.ReserveResume). Defaults to the
	// query parameter "resume", which browsers can set (they cannot set
	// headers on a WebSocket handshake).
	Resume func(*http.Request) string
}

// resumeParam is the query parameter EndpointOptions.Resume reads by
// default.
const resumeParam = "resume"

// NewEndpoint returns the golden path as one http.Handler: authenticate the
// request with a (token from the Authorization header or a subprotocol, as
// a's Extractor allows), Reserve a connection with the user's Manager from
// f, upgrade the request with up, echoing opts.Subprotocol, and serve the
// reservation with h until it closes (Reservation.Serve).
//
// The connection is registered before the upgrade, and Options.OnConnect
// runs then, so by the time the client sees the handshake complete, messages
// sent to its user and thread are queued for it: they are delivered, in
// order, once it reaches ProcessingReady. If the upgrade fails, or the
// Upgrader panics, the reservation is released and what was queued is
// discarded (a panic then goes on to net/http).
//
// When the identity has an ExpiresAt, the connection is closed with 1008
// and the reason "token expired" when it passes, and Serve returns an error
// wrapping auth.ErrExpired; what was still queued is discarded. One timer
// per such connection does it; connections without an expiry have none.
//
// With Options.History, a client that presents the position of the last
// message it handled (EndpointOptions.Resume) gets every message it missed
// first, or a reset; see Factory.ReserveResume.
//
// Requests refused before the upgrade get a plain HTTP error and are never
// upgraded: 400 when RequireSubprotocol is set and the client did not offer
// Subprotocol, when the client offered its token as a subprotocol with no
// other protocol beside it, when Thread returns an invalid ThreadID, or when
// the resume position is malformed; 401 or 503
// (auth.HTTPStatus) when authentication fails; 429 when the user has
// MaxManagersPerUser threads or the thread has MaxConnsPerManager
// connections; 503 when the factory has MaxManagers managers or MaxConns
// connections, and after f is closed. With opts.CloseAfterUpgrade,
// authentication failures and the limits are instead reported after the
// upgrade, as close codes. The response names no token and no internal
// error.
//
// Handlers can read the caller's identity with IdentityFrom on the context
// they receive. NewEndpoint returns an error wrapping ErrInvalidOptions if
// f, a, up or h is nil, or RequireSubprotocol is set without Subprotocol.
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
	case opts.RequireSubprotocol && opts.Subprotocol == "":
		return nil, fmt.Errorf("%w: RequireSubprotocol without a Subprotocol", ErrInvalidOptions)
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
	if e.opts.RequireSubprotocol && !offers(r, e.opts.Subprotocol) {
		http.Error(w, "subprotocol required", http.StatusBadRequest)
		return
	}
	id, err := e.a.AuthenticateRequest(r)
	if err != nil {
		e.refuseAuth(w, r, err)
		return
	}
	uc := requestUser(r, id, e.opts.Thread, e.opts.RequestID)
	after, err := e.resumeFrom(r)
	if err != nil {
		http.Error(w, "invalid resume position", http.StatusBadRequest)
		return
	}
	// Register the connection before upgrading: once the client sees the
	// handshake complete, messages sent to it are queued, never lost.
	ctx := auth.WithIdentity(r.Context(), id)
	if e.opts.Detach {
		ctx = context.WithoutCancel(ctx)
	}
	res, err := e.f.ReserveResume(ctx, uc, after)
	if err != nil {
		e.refuseReserve(w, r, err)
		return
	}
	served := false
	defer func() {
		if !served {
			res.Release() // the upgrade failed or panicked
		}
	}()
	tr, err := e.up.Upgrade(w, r, e.echo(r))
	if err != nil {
		e.f.log.Debug("wsmanager: upgrade failed", "err", err)
		return
	}
	served = true
	// A nil tr (a broken Upgrader) ends the reservation with
	// ErrInvalidOptions.
	if e.opts.Detach {
		if err := res.Go(tr, e.h); err != nil {
			e.f.log.Debug("wsmanager: connection refused", "user", uc.UserID, "thread", uc.ThreadID, "request", uc.RequestID, "err", err)
		}
		return
	}
	if err := res.Serve(tr, e.h); err != nil {
		e.f.log.Debug("wsmanager: connection ended", "user", uc.UserID, "thread", uc.ThreadID, "request", uc.RequestID, "err", err)
	}
}

// resumeFrom returns the position the request resumes from.
func (e *endpoint) resumeFrom(r *http.Request) (Position, error) {
	return requestResume(r, e.opts.Resume)
}

// requestUser is the UserContext of a request authenticated as id, with
// the thread and request ID an endpoint's options give it.
func requestUser(r *http.Request, id auth.Identity, thread, requestID func(*http.Request) string) UserContext {
	uc := UserContext{UserID: id.UserID}
	if thread != nil {
		uc.ThreadID = thread(r)
	}
	if requestID != nil {
		uc.RequestID = requestID(r)
	}
	return uc
}

// requestResume is the position a request presents: resume's, or the
// query parameter's.
func requestResume(r *http.Request, resume func(*http.Request) string) (Position, error) {
	if resume != nil {
		return ParsePosition(resume(r))
	}
	return ParsePosition(r.URL.Query().Get(resumeParam))
}

// offers reports whether the request offers subprotocol.
func offers(r *http.Request, subprotocol string) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == subprotocol {
				return true
			}
		}
	}
	return false
}

// refuseAuth answers a request whose authentication failed.
func (e *endpoint) refuseAuth(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, auth.ErrTokenProtocolAlone) {
		// No protocol to choose, so no handshake a browser accepts: say
		// what is missing, to the developer reading the response.
		want := "the application's subprotocol"
		if e.opts.Subprotocol != "" {
			want = "the subprotocol " + e.opts.Subprotocol
		}
		http.Error(w, "the token was offered as a subprotocol alone: offer "+want+" beside it", http.StatusBadRequest)
		return
	}
	if e.opts.CloseAfterUpgrade {
		code := auth.CloseCode(err)
		e.closeAfterUpgrade(w, r, code, authReason(code))
		return
	}
	refuseAuthHTTP(w, err)
}

// refuseReserve answers an authenticated request the factory refused.
func (e *endpoint) refuseReserve(w http.ResponseWriter, r *http.Request, err error) {
	limit := errors.Is(err, ErrUserLimit) || errors.Is(err, ErrConnLimit) || errors.Is(err, ErrFactoryLimit) || errors.Is(err, ErrDraining) || errors.Is(err, ErrBroker)
	if limit && e.opts.CloseAfterUpgrade {
		code, reason := refusal(err)
		e.closeAfterUpgrade(w, r, code, reason)
		return
	}
	refuseReserveHTTP(w, err)
}

// refuseReserveHTTP answers, with an HTTP status, an authenticated
// request the factory refused.
func refuseReserveHTTP(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalidUser):
		http.Error(w, "invalid thread", http.StatusBadRequest)
	case errors.Is(err, ErrUserLimit):
		http.Error(w, "too many threads", http.StatusTooManyRequests)
	case errors.Is(err, ErrConnLimit):
		http.Error(w, "too many connections", http.StatusTooManyRequests)
	case errors.Is(err, ErrDraining):
		// A client, or a load balancer, tries another node now.
		w.Header().Set("Retry-After", "1")
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	default:
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	}
}

// echo is the subprotocol the handshake selects: Subprotocol, or without
// one, for a token sent as a subprotocol, the first other protocol the
// client offered (never the token's entry).
func (e *endpoint) echo(r *http.Request) string {
	if e.opts.Subprotocol != "" {
		return e.opts.Subprotocol
	}
	if _, src, proto, err := e.a.Extractor().TokenProtocol(r); err == nil && src == auth.SourceSubprotocol {
		return proto
	}
	return ""
}

// closeAfterUpgrade upgrades a refused request only to close it with code
// and reason, which browsers can read.
func (e *endpoint) closeAfterUpgrade(w http.ResponseWriter, r *http.Request, code int, reason string) {
	tr, err := e.up.Upgrade(w, r, e.echo(r))
	if err != nil || tr == nil {
		return
	}
	_ = tr.Close(code, reason)
}

// authReason is the reason sent with an authentication close code: what
// the client can act on, nothing about why the backend said no.
func authReason(code int) string {
	switch code {
	case CodePolicyViolation:
		return "unauthorized"
	case CodeTryAgainLater:
		return "try again later"
	}
	return reasonInternal
}

// IdentityFrom returns the identity NewEndpoint authenticated, from the
// context a Handler receives (or Connection.Context). It is auth.IdentityFrom:
// the identity has one context key, in package auth, which middleware
// shares, so any of the three finds it.
func IdentityFrom(ctx context.Context) (auth.Identity, bool) { return auth.IdentityFrom(ctx) }
