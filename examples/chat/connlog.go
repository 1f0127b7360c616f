package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/wsmanager"
)

// connLogKey is the context key of a WebSocket request's connLog.
type connLogKey struct{}

// connLog is what the chat knows of one WebSocket request by the time its
// connection ends: withConnLog records the request ID and room, the
// factory's OnConnect hook the user once the request is authenticated, and
// the transport logs it all when the connection is closed.
type connLog struct {
	requestID, room string

	mu   sync.Mutex
	user string
}

func (l *connLog) setUser(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.user = user
}

func (l *connLog) getUser() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.user
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

// noteUser records c's user in its request's connLog.
func noteUser(c *wsmanager.Connection) {
	if l, ok := c.Context().Value(connLogKey{}).(*connLog); ok {
		l.setUser(c.User().UserID)
	}
}

// loggingUpgrader wraps the transport's Upgrader so that every WebSocket
// logs, at Info, how it ended.
type loggingUpgrader struct {
	up     wsmanager.Upgrader
	logger *slog.Logger
}

// Upgrade upgrades with the wrapped Upgrader and wraps the connection.
func (u loggingUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	c, err := u.up.Upgrade(w, r, subprotocol)
	if err != nil || c == nil {
		return c, err
	}
	l, ok := r.Context().Value(connLogKey{}).(*connLog)
	if !ok {
		l = &connLog{}
	}
	lc := &loggedConn{Conn: c, log: l, logger: u.logger}
	if b, ok := c.(wsmanager.BatchConn); ok {
		return loggedBatchConn{loggedConn: lc, batch: b}, nil
	}
	return lc, nil
}

// loggedBatchConn is a loggedConn over a transport that writes batches, so
// that logging costs the writer none of its batching.
type loggedBatchConn struct {
	*loggedConn
	batch wsmanager.BatchConn
}

// WriteBatch writes msgs with the wrapped Conn's WriteBatch.
func (c loggedBatchConn) WriteBatch(ctx context.Context, msgs [][]byte) error {
	return c.batch.WriteBatch(ctx, msgs)
}

// loggedConn logs one line as the server closes the connection, before the
// close frame goes out: the close code and reason it sends and, when the
// peer closed first, the peer's code. A connection closed before it was
// served (a request refused after the upgrade, so that the browser can read
// the code) logs as refused.
type loggedConn struct {
	wsmanager.Conn
	log      *connLog
	logger   *slog.Logger
	peerCode atomic.Int64 // the peer's close code; 0 until one is read
	closed   atomic.Bool
}

// Read reads from the wrapped Conn and notes the peer's close code.
func (c *loggedConn) Read(ctx context.Context) ([]byte, error) {
	msg, err := c.Conn.Read(ctx)
	var ce *wsmanager.CloseError
	if errors.As(err, &ce) {
		c.peerCode.CompareAndSwap(0, int64(ce.Code))
	}
	return msg, err
}

// Close logs, once, how the connection ends, and closes the wrapped Conn.
func (c *loggedConn) Close(code int, reason string) error {
	if !c.closed.Swap(true) {
		attrs := []any{"room", c.log.room, "code", code, "reason", reason}
		if p := c.peerCode.Load(); p != 0 {
			attrs = append(attrs, "peer_code", p)
		}
		attrs = append(attrs, "request_id", c.log.requestID)
		if user := c.log.getUser(); user != "" {
			c.logger.Info("chat: disconnected", append([]any{"user", user}, attrs...)...)
		} else {
			c.logger.Info("chat: websocket refused", attrs...)
		}
	}
	return c.Conn.Close(code, reason)
}
