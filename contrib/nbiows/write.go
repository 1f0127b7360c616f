package nbiows

import (
	"context"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
)

// WriteMessages sends msgs, in order, each as one frame, with one write
// system call for a batch of up to 64 KiB or so when the socket's buffer
// takes it: the frames are copied into a buffer, from a pool the Upgrader
// keeps, and handed to the engine, which writes what the socket takes at
// once and keeps the rest until the socket is writable again. It keeps
// neither msgs nor their elements.
//
// A batch returns once the socket took all of it: it waits for the engine
// to report the rest written, up to deadline (zero: none), so a peer that
// stops reading is found out by it: a batch still unwritten then gives up
// with an error that wraps os.ErrDeadlineExceeded. A batch that waits for
// the write lock (behind a pong, a ping or another goroutine's batch) cuts
// the wait under way short at its own deadline rather than wait past it.
// After Abort it returns ErrAborted at once. A batch that fails leaves the
// connection unable to write again: the peer may have seen part of a
// frame.
func (c *Conn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	return c.w.WriteMessages(msgs, deadline)
}

// Write sends msg as one message, as WriteBatch does for one message.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return c.WriteBatch(ctx, [][]byte{msg})
}

// WriteBatch is wsmanager.BatchConn's write, for direct callers: it is
// WriteMessages bounded by ctx's deadline. When ctx ends while the batch
// waits or is written, the batch is aborted (Abort, registered with
// context.AfterFunc for the call) and ctx's error returned; the connection
// can then no longer be written to. A ctx already ended returns its error
// and leaves the connection alone.
func (c *Conn) WriteBatch(ctx context.Context, msgs [][]byte) error {
	return wsadapt.WriteCtx(ctx, msgs, c.WriteMessages, c.Abort)
}
