package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/wsmanager"
)

// connLogKey is the context key of a WebSocket request's connLog.
type connLogKey struct{}

// connLog is what the chat knows of one WebSocket request beyond its
// connection: the request ID and room, which withConnLog records and the
// log lines of its ending or refusal name.
type connLog struct {
	requestID, room string
}

// withConnLog gives a WebSocket request its connLog. The endpoint passes the
// request's context on to the connection, where OnConnect finds it.
func withConnLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := middleware.RequestIDFrom(r.Context())
		l := &connLog{requestID: id, room: roomOf(r)}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), connLogKey{}, l)))
	})
}

// logEnding returns the factory's OnDisconnect hook: one Info line per
// served connection, with the close code as it went over the wire
// (wsmanager.Ending): the peer's when it closed, the transport's own (1009
// for a message over the read limit), 1006 when no close frame was
// exchanged (a reset), the server's otherwise.
func logEnding(logger *slog.Logger) func(*wsmanager.Connection, error) {
	return func(c *wsmanager.Connection, _ error) {
		e, _ := c.Ending()
		attrs := []any{"user", c.User().UserID, "room", c.User().ThreadID, "outcome", e.Outcome.String(), "code", e.Code}
		if e.Reason != "" {
			attrs = append(attrs, "reason", e.Reason)
		}
		if l, ok := c.Context().Value(connLogKey{}).(*connLog); ok {
			attrs = append(attrs, "request_id", l.requestID)
		}
		logger.Info("chat: disconnected", attrs...)
	}
}

// loggingUpgrader wraps the transport's Upgrader so that a WebSocket the
// endpoint refuses after its upgrade (so that the browser can read the
// code) logs, at Info, how it was refused. A served connection is closed
// through wsmanager.DeadlineConn, and logged by logEnding.
type loggingUpgrader struct {
	up     wsmanager.Upgrader
	logger *slog.Logger
}

// Upgrade upgrades with the wrapped Upgrader and wraps the connection,
// keeping every interface of the transport's that wsmanager uses.
func (u loggingUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	c, err := u.up.Upgrade(w, r, subprotocol)
	if err != nil || c == nil {
		return c, err
	}
	l, ok := r.Context().Value(connLogKey{}).(*connLog)
	if !ok {
		l = &connLog{}
	}
	lc := &refusalConn{Conn: c, log: l, logger: u.logger}
	if d, ok := c.(wsmanager.DeadlineConn); ok {
		return refusalDeadlineConn{refusalConn: lc, DeadlineConn: d}, nil
	}
	return lc, nil
}

// refusalConn logs a connection closed with Conn.Close: the endpoint's
// refusal after the upgrade, the one close wsmanager makes that way on a
// transport that implements DeadlineConn.
type refusalConn struct {
	wsmanager.Conn
	log    *connLog
	logger *slog.Logger
}

// Close logs the refusal and closes the wrapped Conn.
func (c *refusalConn) Close(code int, reason string) error {
	c.logger.Info("chat: websocket refused", "room", c.log.room, "code", code, "reason", reason, "request_id", c.log.requestID)
	return c.Conn.Close(code, reason)
}

// refusalDeadlineConn is a refusalConn over a transport that implements
// wsmanager.DeadlineConn, which the connection's writer then uses as it is.
type refusalDeadlineConn struct {
	*refusalConn
	wsmanager.DeadlineConn
}

// Read resolves the ambiguity of the two embedded Reads: the transport's.
func (c refusalDeadlineConn) Read(ctx context.Context) ([]byte, error) {
	return c.DeadlineConn.Read(ctx)
}
