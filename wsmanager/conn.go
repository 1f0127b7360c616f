package wsmanager

import (
	"context"
	"net/http"
)

// Conn is one transport connection: a WebSocket, or anything that moves whole
// messages in both directions. Adapters for concrete transports live outside
// the library module, so the library depends on no transport.
//
// The package calls Read from one goroutine at a time (the one running
// Manager.Serve) and Write from one goroutine at a time (the connection's
// writer), but Close may be called concurrently with both, and Write may run
// concurrently with Read. An implementation must make Read and Write return
// once Close has been called, and must honour the context of Read and Write:
// the package relies on it to stop reading when Serve's context ends and to
// abandon a write after Options.WriteTimeout.
type Conn interface {
	// Read returns the next whole message. It returns an error once the
	// peer closed, the connection was closed, or ctx ended.
	Read(ctx context.Context) ([]byte, error)
	// Write sends msg as one message. The package never modifies msg after
	// the call and never reuses it while the call runs; an implementation
	// must not keep msg after returning.
	Write(ctx context.Context, msg []byte) error
	// Close closes the connection with a WebSocket close code (RFC 6455
	// section 7.4) and a human-readable reason. The package calls it at most
	// once per Conn.
	Close(code int, reason string) error
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
// from the goroutine running Manager.Serve, one message at a time and in the
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
