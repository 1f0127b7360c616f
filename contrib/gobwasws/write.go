package gobwasws

import (
	"context"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
)

// WriteMessages sends msgs, in order, each as one frame, with one writev
// system call for the whole batch: the frame headers are encoded into a
// buffer the connection keeps, and the payloads are written from the
// callers' slices, never copied, so a batch allocates nothing once the
// connection's buffers have grown to its size (TestWriteMessagesAllocates
// checks it). It keeps neither msgs nor their elements.
//
// The socket's write deadline is set once for the batch, to deadline (zero:
// none): a batch still unwritten then gives up with an error that wraps
// os.ErrDeadlineExceeded. A batch that waits for the write lock (behind a
// pong, a ping or another goroutine's batch) cuts the write under way short
// at its own deadline rather than wait past it. After Abort it returns
// ErrAborted at once. A batch that fails leaves the connection unable to
// write again: the peer may have seen part of a frame.
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
// context.AfterFunc for the call: this path alone pays for it) and ctx's
// error returned; the connection can then no longer be written to. A ctx
// already ended returns its error and leaves the connection alone.
func (c *Conn) WriteBatch(ctx context.Context, msgs [][]byte) error {
	return wsadapt.WriteCtx(ctx, msgs, c.WriteMessages, c.Abort)
}
