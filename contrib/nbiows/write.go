package nbiows

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
)

// maxHeader is the largest header of a frame the server sends: unmasked,
// with a 64-bit length.
const maxHeader = 10

// WriteMessages sends msgs, in order, each as one frame, with one writev
// system call for the whole batch when the socket's buffer takes it: the
// frame headers are encoded into a buffer the connection keeps, and the
// payloads are written from the callers' slices, never copied. It keeps
// neither msgs nor their elements.
//
// It writes in blocking style on the socket's second descriptor, not
// through the engine, which would queue what the socket cannot take in a
// buffer of its own and return: a batch returns once the kernel holds all
// of it. The descriptor's write deadline is set once for the batch, to
// deadline (zero: none), so a peer that stops reading is found out by it: a
// batch still unwritten then gives up with an error that wraps
// os.ErrDeadlineExceeded. A batch that waits for the write lock (behind a
// pong, a ping or another goroutine's batch) cuts the write under way short
// at its own deadline rather than wait past it. After Abort it returns
// ErrAborted at once. A batch that fails leaves the connection unable to
// write again: the peer may have seen part of a frame.
func (c *Conn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := c.lockWrite(deadline); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	switch {
	case c.shut.Load():
		return ErrClosed
	case c.broken != nil:
		return c.brokenErr()
	}
	if err := c.deadline.Set(deadline); err != nil {
		return c.writeErr(err)
	}
	need := maxHeader * len(msgs)
	if cap(c.hdrs) < need {
		c.hdrs = make([]byte, 0, need)
	}
	hdrs, vec := c.hdrs[:0], c.vec[:0]
	for _, m := range msgs {
		start := len(hdrs)
		hdrs = appendHeader(hdrs, c.u.op, len(m))
		vec = append(vec, hdrs[start:len(hdrs):len(hdrs)], m)
	}
	c.hdrs, c.vec, c.bufs = hdrs, vec, vec
	_, err := c.bufs.WriteTo(c.wc)
	clear(vec) // keep no caller's slice
	c.bufs = nil
	if err != nil {
		c.broken = err
		return c.writeErr(err)
	}
	return nil
}

// brokenErr is the error of a write after one that failed: it wraps that
// one's, so a write behind one that timed out reports
// os.ErrDeadlineExceeded too.
func (c *Conn) brokenErr() error {
	if c.deadline.Aborted() {
		return ErrAborted
	}
	return fmt.Errorf("nbiows: an earlier write failed: %w", c.broken)
}

// writeErr is the error a write returns for err: ErrAborted once Abort
// was called, whatever the socket said.
func (c *Conn) writeErr(err error) error {
	if errors.Is(err, wsadapt.ErrAborted) || c.deadline.Aborted() {
		return ErrAborted
	}
	return fmt.Errorf("nbiows: write: %w", err)
}

// lockWrite takes the write lock for a write due by deadline, registered
// as waiting meanwhile so that the write under way ends by then. It fails
// with ErrAborted, without the lock, once Abort was called.
func (c *Conn) lockWrite(deadline time.Time) error {
	if err := c.deadline.Wait(deadline); err != nil {
		return c.writeErr(err)
	}
	c.wmu.Lock()
	c.deadline.Acquired()
	return nil
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
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	stop := context.AfterFunc(ctx, c.Abort)
	err := c.WriteMessages(msgs, deadline)
	if !stop() && err != nil {
		return ctx.Err()
	}
	return err
}

// appendHeader appends the header of an unmasked, final frame of op with an
// n-byte payload, as a server sends it (RFC 6455 section 5.2).
func appendHeader(dst []byte, op byte, n int) []byte {
	b0 := 0x80 | op
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(n))
}

// writeControl writes one control frame, due by deadline, unless a close
// frame already went out or an earlier write failed (then it returns
// errCloseSent or that write's error and writes nothing).
func (c *Conn) writeControl(op byte, payload []byte, deadline time.Time) error {
	if err := c.lockWrite(deadline); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	switch {
	case c.broken != nil:
		return c.brokenErr()
	case c.closeSent:
		return errCloseSent
	}
	if err := c.deadline.Set(deadline); err != nil {
		return c.writeErr(err)
	}
	return c.writeControlLocked(op, payload)
}

// errCloseSent is what writeControl returns after the close frame: RFC
// 6455 section 5.5.1 allows nothing after it.
const errCloseSent = sentinel("nbiows: close frame already sent")

// writeControlLocked writes one control frame; the caller holds wmu and
// has set the deadline.
func (c *Conn) writeControlLocked(op byte, payload []byte) error {
	if op == opClose {
		c.closeSent = true
	}
	frame := append(appendHeader(c.ctrl[:0], op, len(payload)), payload...)
	if _, err := c.wc.Write(frame); err != nil {
		c.broken = err
		return c.writeErr(err)
	}
	return nil
}
