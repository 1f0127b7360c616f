package wsmanager

import (
	"context"
	"net/http"
	"time"
)

// Conn is one transport connection: a WebSocket, or anything that moves whole
// messages in both directions. Adapters for concrete transports live outside
// the library module (github.com/ssotkit/ssot/contrib/...), so the library
// depends on no transport.
//
// A Conn that also implements DeadlineConn, as every adapter in
// github.com/ssotkit/ssot/contrib does, is written to and closed through
// DeadlineConn alone. For one that does not, the package calls Read from
// one goroutine at a time (the one serving the connection) and Write,
// WriteBatch and Close from one goroutine at a time (the connection's
// writer), and Write may run concurrently with Read. An implementation
// must make Read return once Close has been called, and must honour the
// context of Write and WriteBatch: a plain context made for each batch the
// writer hands over, whose deadline is Options.WriteTimeout from then and
// which is also cancelled when a close stops delivering.
type Conn interface {
	// Read returns the next whole message. When the peer ended the
	// connection it returns an error matching *CloseError (a close frame,
	// with any code) or io.EOF (a clean end without one, where the
	// transport knows it to be clean); any other error is an abnormal end.
	// It also returns an error once Close was called or ctx ended.
	Read(ctx context.Context) ([]byte, error)
	// Write sends msg as one message. The package never modifies msg after
	// the call and never reuses it while the call runs; an implementation
	// must not keep msg after returning.
	Write(ctx context.Context, msg []byte) error
	// Close closes the connection with a WebSocket close code (RFC 6455
	// section 7.4) and a human-readable reason. The package calls it at most
	// once per Conn, after the last Write.
	Close(code int, reason string) error
}

// BatchConn is a Conn that can write several messages in one call, in one
// system call where the transport allows it. When a Conn implements it (and
// not DeadlineConn), the connection's writer hands it every message
// waiting, in order, up to 1,024 at a time; each is still one message to
// the peer.
// WriteBatch must not keep msgs or their elements after returning. If it
// fails, the connection closes, and the messages of that batch count as
// discarded.
type BatchConn interface {
	Conn
	WriteBatch(ctx context.Context, msgs [][]byte) error
}

// DeadlineConn is the second edition of the contract between the package
// and a transport, beside Conn and BatchConn, and the one the adapters in
// github.com/ssotkit/ssot/contrib implement: every write is bounded by an
// explicit deadline, the one mechanism that ends it, and nothing but Abort
// cuts it short. The connection's writer computes the deadline once per
// batch, Options.WriteTimeout from when it hands the batch over.
//
// A transport that implements DeadlineConn is used through it; one that
// implements only Conn (and BatchConn) is given, for each write, a plain
// context with that deadline, cancelled by an abort, as
// coder/websocket-style APIs expect.
//
// The package calls Read from one goroutine at a time, and WriteMessages
// and CloseWithin from one goroutine at a time (the connection's writer),
// never concurrently with each other; Read may run concurrently with both,
// and Abort may be called from any goroutine at any time.
type DeadlineConn interface {
	// Read returns the next whole message, as Conn.Read does. When the
	// transport ended the connection because a write ran out of time (as
	// coder/websocket does), Read's error wraps os.ErrDeadlineExceeded, so
	// that the connection ends as the writer's timeout, not as a failure.
	Read(ctx context.Context) ([]byte, error)
	// WriteMessages writes msgs in order, each one message to the peer, in
	// as few system calls as the transport allows; the writer hands it
	// every message waiting, up to 1,024 at a time. It gives up once
	// deadline passes, returning an error that wraps
	// os.ErrDeadlineExceeded: the peer is not reading. It must not keep
	// msgs or their elements after returning.
	WriteMessages(msgs [][]byte, deadline time.Time) error
	// Abort makes the write under way, if any, and every later one return
	// at once with an error, and makes CloseWithin skip the close frame:
	// the package calls it when a connection must end without delivering
	// what it is writing (a peer that stopped reading, a shutdown out of
	// time). It is idempotent.
	Abort()
	// CloseWithin closes the connection with a WebSocket close code (RFC
	// 6455 section 7.4) and a reason: it writes the close frame and waits
	// for the peer's, giving up on both at deadline, then closes the
	// socket. A deadline already passed closes the socket without writing.
	// The package calls it at most once, after the last WriteMessages; it
	// must make Read return.
	CloseWithin(code int, reason string, deadline time.Time) error
}

// Upgrader performs a transport's handshake on an HTTP request and returns
// the connection. Adapters live outside the library module. An Upgrader must
// be safe for concurrent use.
type Upgrader interface {
	// Upgrade completes the handshake on w and r. When subprotocol is not
	// empty and the client offered it, the implementation echoes it in the
	// Sec-WebSocket-Protocol response header and never echoes any other
	// offered subprotocol, because another one may carry a token. On error
	// the implementation has written the HTTP response.
	Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (Conn, error)
}

// Handler handles the messages a connection reads. HandleMessage is called
// from the goroutine reading the connection (the one serving it, or for a
// PushConn one of the transport's), one message at a time and in the
// order the messages were read, so a Handler sees the messages of one
// connection sequentially; the same Handler serves many connections
// concurrently. Returning an error, or panicking, closes that connection with
// 1011 (internal error) and a reason that names no internals; nothing else is
// affected.
type Handler interface {
	HandleMessage(ctx context.Context, c *Connection, msg []byte) error
}

// HandlerFunc adapts an ordinary function to a Handler. The function is
// called concurrently for different connections, as any Handler is; a nil
// HandlerFunc panics when called.
type HandlerFunc func(ctx context.Context, c *Connection, msg []byte) error

// HandleMessage calls f(ctx, c, msg).
func (f HandlerFunc) HandleMessage(ctx context.Context, c *Connection, msg []byte) error {
	return f(ctx, c, msg)
}

var _ Handler = HandlerFunc(nil)
