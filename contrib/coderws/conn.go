package coderws

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/contrib/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Conn = (*Conn)(nil)

// Conn is one coder/websocket connection seen as a wsmanager.Conn. Read may
// be called by one goroutine at a time; Write and Close are safe for
// concurrent use with each other and with Read. The zero value is not
// usable: a Conn comes from Upgrader.Upgrade or Wrap.
type Conn struct {
	c   *websocket.Conn
	typ websocket.MessageType
}

// Wrap returns c as a Conn that writes messages of type typ. It lets a
// client made with websocket.Dial use the same interface as the server side.
func Wrap(c *websocket.Conn, typ websocket.MessageType) *Conn {
	return &Conn{c: c, typ: typ}
}

// Read returns the next message, text or binary. When the peer sent a
// close frame it returns a *wsmanager.CloseError with the peer's code (1005
// if it carried none); when the connection ended without one, or a message
// over the read limit closed it with 1009, an abnormal error that is never
// io.EOF. If ctx ends while Read waits, the connection is closed and ctx's
// error returned.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	_, msg, err := c.c.Read(ctx)
	if err == nil {
		return msg, nil
	}
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return nil, wsadapt.PeerClosed(int(ce.Code), ce.Reason)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, wsadapt.Abnormal("coderws", err)
}

// Write sends msg as one message. Concurrent calls are serialised. If ctx
// ends before the message is written, the connection is closed, because the
// peer may have seen part of a frame.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return c.c.Write(ctx, c.typ, msg)
}

// Close sends a close frame with code and reason and waits up to five
// seconds for the peer's answer. A reason longer than 123 bytes is
// shortened. Closing a closed connection returns an error and changes
// nothing. A code that may not be sent closes the connection without a
// handshake and returns an error wrapping ErrCloseCode.
func (c *Conn) Close(code int, reason string) error {
	if !wsadapt.ValidCode(code) {
		_ = c.c.CloseNow()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	return c.c.Close(websocket.StatusCode(code), wsadapt.Reason(reason))
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string {
	return c.c.Subprotocol()
}
