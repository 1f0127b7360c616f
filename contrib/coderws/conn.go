package coderws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var (
	_ wsmanager.DeadlineConn = (*Conn)(nil)
	_ wsmanager.Conn         = (*Conn)(nil)
)

// Conn is one coder/websocket connection seen as a wsmanager.DeadlineConn
// (and, for direct callers, a wsmanager.Conn). Read may be called by one
// goroutine at a time; WriteMessages, Write, CloseWithin and Close are safe
// for concurrent use with each other and with Read, and Abort may be called
// from any goroutine at any time. The zero value is not usable: a Conn
// comes from Upgrader.Upgrade or Wrap.
//
// coder/websocket's API takes a context per write, so that is how a write
// is bounded: every write's context derives from one per connection, which
// Abort cancels.
type Conn struct {
	c   *websocket.Conn
	typ websocket.MessageType
	// nc is the socket coder/websocket hijacked, which CloseWithin closes
	// at its deadline; nil for a Conn from Wrap.
	nc net.Conn

	writes context.Context // every write's context derives from it
	abort  context.CancelFunc
	// writing is the deadline of the batch being written, in Unix
	// nanoseconds; 0 while none is. coder/websocket closes the connection
	// when a write's context ends, so Read can fail first: it tells from
	// this that the write ran out of time.
	writing atomic.Int64
}

// Wrap returns c as a Conn that writes messages of type typ. It lets a
// client made with websocket.Dial use the same interface as the server side.
// Such a Conn has no hold on its socket: its CloseWithin is bounded by
// coder/websocket's own close timeouts (five seconds to write the close
// frame, five to wait for the answer) as well as by its deadline only once
// that has passed when it is called.
func Wrap(c *websocket.Conn, typ websocket.MessageType) *Conn {
	return newConn(c, typ, nil)
}

func newConn(c *websocket.Conn, typ websocket.MessageType, nc net.Conn) *Conn {
	writes, abort := context.WithCancel(context.Background())
	return &Conn{c: c, typ: typ, nc: nc, writes: writes, abort: abort}
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
	if errors.Is(err, websocket.ErrMessageTooBig) {
		// coder/websocket has sent the peer 1009 itself.
		return nil, &wsmanager.SentCloseError{Code: int(websocket.StatusMessageTooBig), Err: wsadapt.Abnormal("coderws", err)}
	}
	if d := c.writing.Load(); d != 0 && time.Now().UnixNano() >= d {
		// The connection closed because a write ran out of time: a peer
		// that stopped reading, not one that failed.
		return nil, fmt.Errorf("coderws: read: the connection closed after a write ran out of time: %w", os.ErrDeadlineExceeded)
	}
	return nil, wsadapt.Abnormal("coderws", err)
}

// WriteMessages sends msgs, in order, each as one message, bounded by
// deadline (zero: none). A batch still unwritten at deadline gives up with
// an error that wraps os.ErrDeadlineExceeded; after Abort, it returns
// ErrAborted. coder/websocket closes the connection when a write's context
// ends mid-write, since the peer may have seen part of a frame.
//
// coder/websocket's API takes a context per write, so a batch costs one
// context.WithDeadline (a context and a timer, derived from the
// connection's, which Abort cancels), and coder/websocket registers each
// message's context with context.AfterFunc; BenchmarkWriteMessages
// measures it. contrib/gobwasws bounds its writes with the socket's
// deadline instead, without allocating.
func (c *Conn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	if c.writes.Err() != nil {
		return ErrAborted
	}
	ctx, cancel := c.writes, context.CancelFunc(func() {})
	if !deadline.IsZero() {
		ctx, cancel = context.WithDeadline(c.writes, deadline)
		c.writing.Store(deadline.UnixNano())
		defer c.writing.Store(0)
	}
	defer cancel()
	for _, m := range msgs {
		if err := c.c.Write(ctx, c.typ, m); err != nil {
			return c.writeErr(err, deadline)
		}
	}
	return nil
}

// writeErr is the error a write that failed with err returns.
func (c *Conn) writeErr(err error, deadline time.Time) error {
	switch {
	case c.writes.Err() != nil:
		return ErrAborted
	case errors.Is(err, context.DeadlineExceeded) || (!deadline.IsZero() && !time.Now().Before(deadline)):
		return fmt.Errorf("coderws: write: %w: %w", os.ErrDeadlineExceeded, err)
	}
	return fmt.Errorf("coderws: write: %w", err)
}

// Abort cancels the context every write derives from: the write under way,
// if any, returns at once with ErrAborted (and coder/websocket closes the
// connection), as does every later one, and CloseWithin then closes the
// connection without a close frame. It is idempotent and may be called
// from any goroutine.
func (c *Conn) Abort() { c.abort() }

// Write sends msg as one message, for direct callers: it is WriteMessages
// bounded by ctx's deadline, and when ctx ends while it waits or writes,
// the write is aborted (Abort, registered with context.AfterFunc for the
// call: this path alone pays for it) and ctx's error returned; the
// connection then cannot be written to. A ctx already ended returns its
// error and leaves the connection alone.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return wsadapt.WriteCtx(ctx, [][]byte{msg}, c.WriteMessages, c.Abort)
}

// CloseWithin sends a close frame with code and reason and waits for the
// peer's answer, both bounded by deadline, at which the socket is closed.
// A deadline already passed, or an earlier Abort, closes the connection at
// once without a close frame, as does a write that timed out, since
// coder/websocket closes the connection then. A reason longer than 123
// bytes is shortened. Closing a closed connection returns an error and
// changes nothing. A code that may not be sent closes the connection
// without a handshake and returns an error wrapping ErrCloseCode.
func (c *Conn) CloseWithin(code int, reason string, deadline time.Time) error {
	if !wsadapt.ValidCode(code) {
		_ = c.c.CloseNow()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	if !time.Now().Before(deadline) || c.writes.Err() != nil {
		return c.c.CloseNow()
	}
	if c.nc != nil {
		fired := make(chan struct{})
		timer := time.AfterFunc(time.Until(deadline), func() {
			defer close(fired)
			_ = c.nc.Close()
		})
		defer func() {
			if !timer.Stop() {
				<-fired
			}
		}()
	}
	return c.c.Close(websocket.StatusCode(code), wsadapt.Reason(reason))
}

// Close is CloseWithin with coder/websocket's own bounds: five seconds to
// write the close frame and five to wait for the answer.
func (c *Conn) Close(code int, reason string) error {
	return c.CloseWithin(code, reason, time.Now().Add(10*time.Second))
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string {
	return c.c.Subprotocol()
}
