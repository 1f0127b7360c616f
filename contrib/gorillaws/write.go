package gorillaws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
)

// WriteMessages sends msgs, in order, each as one message, with the
// socket's write deadline set to deadline (zero: none) for the batch. A
// batch still unwritten then gives up with an error that wraps
// os.ErrDeadlineExceeded. A batch that waits for the write lock (behind a
// pong or another goroutine's batch) cuts the write under way short at its
// own deadline rather than wait past it. After Abort it returns ErrAborted
// at once. A batch that fails leaves the connection unable to write again:
// gorilla/websocket's state is corrupt after a failed write.
func (c *Conn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := c.lockWrite(deadline); err != nil {
		return err
	}
	defer c.lock.Unlock()
	if c.closeSent {
		return ErrClosed
	}
	if err := c.lock.Broken(); err != nil {
		return err
	}
	// gorilla hands the deadline to the socket for each frame.
	_ = c.c.SetWriteDeadline(deadline)
	for _, m := range msgs {
		if err := c.c.WriteMessage(c.typ, m); err != nil {
			return c.fail(err)
		}
	}
	return nil
}

// lockWrite takes the write lock for a write due by deadline, registered
// as waiting meanwhile so that the write under way ends by then. It fails
// with ErrAborted, without the lock, once Abort was called; with the lock,
// it fails the same way if Abort came while it waited.
func (c *Conn) lockWrite(deadline time.Time) error {
	if err := c.lock.Lock(deadline); err != nil {
		return err
	}
	if c.lock.Aborted() {
		c.lock.Unlock()
		return ErrAborted
	}
	return nil
}

// fail records that a write failed with err and returns its error: a
// timeout wraps os.ErrDeadlineExceeded, which gorilla replaces with an
// error of its own that only says Timeout.
func (c *Conn) fail(err error) error {
	werr := c.lock.Fail(err)
	var ne net.Error
	if !errors.Is(werr, ErrAborted) && !errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("gorillaws: write: %w: %w", os.ErrDeadlineExceeded, err)
	}
	return werr
}

// writeControl writes one control frame due by deadline, unless a close
// frame already went out or an earlier write failed.
func (c *Conn) writeControl(typ int, payload []byte, deadline time.Time) error {
	if err := c.lockWrite(deadline); err != nil {
		return err
	}
	defer c.lock.Unlock()
	if err := c.lock.Broken(); err != nil {
		return err
	}
	if c.closeSent {
		return ErrClosed
	}
	return c.writeControlLocked(typ, payload, deadline)
}

// writeControlLocked writes one control frame; the caller holds the write
// lock.
func (c *Conn) writeControlLocked(typ int, payload []byte, deadline time.Time) error {
	if typ == websocket.CloseMessage {
		c.closeSent = true
	}
	_ = c.c.SetWriteDeadline(deadline)
	err := c.c.WriteMessage(typ, payload)
	if errors.Is(err, websocket.ErrCloseSent) {
		// gorilla sent a close frame itself (1009 for a message over the
		// read limit, 1002 for a protocol error): the handshake is under way.
		c.closeSent = true
		return nil
	}
	if err != nil {
		return c.fail(err)
	}
	return nil
}

// Abort moves the socket's write deadline into the past for good: the
// write under way, if any, returns at once with ErrAborted, as does every
// later one, and CloseWithin then closes the socket without a close frame.
// It is idempotent and may be called from any goroutine.
func (c *Conn) Abort() { c.lock.Abort() }

// Write sends msg as one message, for direct callers: it is WriteMessages
// bounded by ctx's deadline, and when ctx ends while it waits or writes,
// the write is aborted (Abort, registered with context.AfterFunc for the
// call: this path alone pays for it) and ctx's error returned; the
// connection then cannot be written to. A ctx already ended returns its
// error and leaves the connection alone.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return wsadapt.WriteCtx(ctx, [][]byte{msg}, c.WriteMessages, c.Abort)
}
