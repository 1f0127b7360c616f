package gobwasws_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager"
)

// A service serving WebSockets on a listener of its own, with the zero-copy
// upgrade: accept authenticates the request and reserves its connection
// before the 101 is written, so a client that sees the handshake complete
// is already reachable, and a refusal is an HTTP status the client reads.
func ExampleUpgrader_UpgradeConn() {
	serve := func(ctx context.Context, ln net.Listener, f *wsmanager.Factory, authn *auth.Unified, h wsmanager.Handler) error {
		up, err := gobwasws.NewUpgrader(gobwasws.Options{})
		if err != nil {
			return err
		}
		for {
			nc, err := ln.Accept()
			if err != nil {
				return err
			}
			go func() {
				var res *wsmanager.Reservation
				conn, err := up.UpgradeConn(nc, func(req *gobwasws.Request) (string, error) {
					r, err := req.HTTP(ctx)
					if err != nil {
						return "", err
					}
					token, _, protocol, err := auth.Extractor{}.TokenProtocol(r)
					if err != nil {
						return "", gobwasws.Reject(http.StatusUnauthorized, http.Header{"WWW-Authenticate": {"Bearer"}})
					}
					id, err := authn.Authenticate(ctx, token)
					if err != nil {
						return "", gobwasws.Reject(auth.HTTPStatus(err), nil)
					}
					res, err = f.Reserve(ctx, wsmanager.UserContext{UserID: id.UserID, ThreadID: r.URL.Query().Get("thread")})
					switch {
					case errors.Is(err, wsmanager.ErrUserLimit), errors.Is(err, wsmanager.ErrConnLimit):
						return "", gobwasws.Reject(http.StatusTooManyRequests, http.Header{"Retry-After": {strconv.Itoa(1)}})
					case err != nil:
						return "", gobwasws.Reject(http.StatusServiceUnavailable, nil)
					}
					return protocol, nil
				})
				if err != nil {
					if res != nil {
						res.Release() // accepted, but the 101 could not be written
					}
					slog.Debug("upgrade refused", "err", err)
					return
				}
				_ = res.Serve(conn, h)
			}()
		}
	}
	_ = serve
}
