// Package memconn is an in-memory message connection for tests of
// wsmanager and its users: the test plays the peer, pushing messages for the
// server to read and inspecting what the server wrote and how it closed. It
// proves nothing about a real transport; the transport adapters' tests run
// wsmanager over real sockets.
package memconn

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

type sentinel string

func (e sentinel) Error() string { return string(e) }

// ErrClosed is returned by Read and Write after Close, and by a second
// Close.
const ErrClosed = sentinel("memconn: closed")

// ErrAborted is returned by writes after Abort.
const ErrAborted = sentinel("memconn: aborted")

// Conn is one in-memory connection. Its methods are safe for concurrent
// use. The zero value is not usable; create one with New.
type Conn struct {
	discard bool

	mu       sync.Mutex
	in       [][]byte
	readErr  error
	arrived  chan struct{} // capacity 1: Push or PeerClose happened
	closed   bool
	code     int
	reason   string
	done     chan struct{} // closed by Close
	written  [][]byte
	count    int
	calls    int           // Write and WriteBatch calls that wrote
	blocked  chan struct{} // non-nil: Write waits until it is closed
	waitN    int
	progress chan struct{} // closed when count reaches waitN
	writing  chan struct{} // closed when a Write starts blocking
	batches  []int         // sizes of the WriteBatch calls, for Batch
	writeErr error         // non-nil: every Write fails with it
	aborted  chan struct{} // closed by Abort
}

// Batch is a Conn that also implements wsmanager.BatchConn, recording the
// size of every batch it is handed, by WriteBatch or WriteMessages.
type Batch struct{ *Conn }

var (
	_ wsmanager.Conn         = (*Conn)(nil)
	_ wsmanager.DeadlineConn = (*Conn)(nil)
	_ wsmanager.BatchConn    = Batch{}
	_ wsmanager.Conn         = Legacy{}
)

// Legacy is a Conn that implements only the first edition of the contract,
// wsmanager.Conn, writing one message per Write with a context, for the
// tests of that path.
type Legacy struct{ c *Conn }

// NewLegacy returns an open Legacy over c.
func NewLegacy(c *Conn) Legacy { return Legacy{c} }

// Read is c's Read.
func (l Legacy) Read(ctx context.Context) ([]byte, error) { return l.c.Read(ctx) }

// Write is c's Write.
func (l Legacy) Write(ctx context.Context, msg []byte) error { return l.c.Write(ctx, msg) }

// Close is c's Close.
func (l Legacy) Close(code int, reason string) error { return l.c.Close(code, reason) }

// Conn returns the Conn behind l.
func (l Legacy) Conn() *Conn { return l.c }

// NewBatch returns an open Batch.
func NewBatch(opts Options) Batch { return Batch{New(opts)} }

// WriteBatch writes msgs in order, as one call, after waiting while the
// Conn is blocked.
func (b Batch) WriteBatch(ctx context.Context, msgs [][]byte) error {
	return b.write(ctx, msgs, true)
}

// Batches returns the sizes of the WriteBatch calls so far, in order; none
// are recorded with Options.Discard.
func (b Batch) Batches() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}

// Options configure New.
type Options struct {
	// Discard counts written messages without keeping them, for benchmarks.
	Discard bool
}

// New returns an open Conn.
func New(opts Options) *Conn {
	return &Conn{
		discard: opts.Discard,
		arrived: make(chan struct{}, 1),
		done:    make(chan struct{}),
		aborted: make(chan struct{}),
	}
}

// WriteMessages records msgs as one batch, after waiting while the Conn is
// blocked, until deadline: then it returns an error wrapping
// os.ErrDeadlineExceeded. After Abort it fails at once.
func (c *Conn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	return c.writeBy(context.Background(), deadline, msgs, true)
}

// Abort makes a write blocked by Block, and every later one, fail with
// ErrAborted. It is idempotent.
func (c *Conn) Abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.aborted:
	default:
		close(c.aborted)
	}
}

// CloseWithin is Close: an in-memory close never waits.
func (c *Conn) CloseWithin(code int, reason string, _ time.Time) error {
	return c.Close(code, reason)
}

// Aborted reports whether Abort was called.
func (c *Conn) Aborted() bool {
	select {
	case <-c.aborted:
		return true
	default:
		return false
	}
}

// Read returns the next message pushed by the peer. After PeerClose and
// once the pushed messages are read it returns io.EOF; after Fail, that
// error; after Close, ErrClosed. It honours ctx.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case len(c.in) > 0:
			msg := c.in[0]
			c.in = c.in[1:]
			c.mu.Unlock()
			return msg, nil
		case c.readErr != nil:
			err := c.readErr
			c.mu.Unlock()
			return nil, err
		}
		c.mu.Unlock()
		select {
		case <-c.arrived:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Write records msg, after waiting while the Conn is blocked. It honours
// ctx and returns ErrClosed after Close.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return c.write(ctx, [][]byte{msg}, false)
}

// write records msgs: one call of Write, or of WriteBatch if batch.
func (c *Conn) write(ctx context.Context, msgs [][]byte, batch bool) error {
	return c.writeBy(ctx, time.Time{}, msgs, batch)
}

// writeBy is write, also bounded by deadline unless it is zero. Only a
// blocked write makes a timer.
func (c *Conn) writeBy(ctx context.Context, deadline time.Time, msgs [][]byte, batch bool) error {
	c.mu.Lock()
	if gate := c.blocked; gate != nil {
		if c.writing != nil {
			close(c.writing)
			c.writing = nil
		}
		c.mu.Unlock()
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-gate:
		case <-c.done:
		case <-c.aborted:
			return ErrAborted
		case <-ctx.Done():
			return ctx.Err()
		case <-expired:
			return fmt.Errorf("memconn: write: %w", os.ErrDeadlineExceeded)
		}
		c.mu.Lock()
	}
	if c.Aborted() {
		c.mu.Unlock()
		return ErrAborted
	}
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.writeErr != nil {
		err := c.writeErr
		c.mu.Unlock()
		return err
	}
	if !c.discard {
		c.written = append(c.written, msgs...)
		if batch {
			c.batches = append(c.batches, len(msgs))
		}
	}
	c.count += len(msgs)
	c.calls++
	if c.progress != nil && c.count >= c.waitN {
		close(c.progress)
		c.progress = nil
	}
	c.mu.Unlock()
	return nil
}

// Close records code and reason and makes Read and Write fail. A second
// Close returns ErrClosed and changes nothing.
func (c *Conn) Close(code int, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.closed, c.code, c.reason = true, code, reason
	close(c.done)
	return nil
}

// Push delivers msg to the server's next Read.
func (c *Conn) Push(msg []byte) {
	c.mu.Lock()
	c.in = append(c.in, msg)
	c.mu.Unlock()
	c.notify()
}

// PeerClose makes Read return io.EOF once the pushed messages are read, as
// when a transport ends cleanly without a close frame.
func (c *Conn) PeerClose() { c.Fail(io.EOF) }

// PeerCloseCode makes Read return a *wsmanager.CloseError with code and
// reason once the pushed messages are read, as when the peer sends a close
// frame.
func (c *Conn) PeerCloseCode(code int, reason string) {
	c.Fail(&wsmanager.CloseError{Code: code, Reason: reason})
}

// FailWrites makes every later Write fail with err, as when the transport
// breaks while writing.
func (c *Conn) FailWrites(err error) {
	c.mu.Lock()
	c.writeErr = err
	c.mu.Unlock()
}

// Fail makes Read return err once the pushed messages are read, as when the
// transport breaks.
func (c *Conn) Fail(err error) {
	c.mu.Lock()
	c.readErr = err
	c.mu.Unlock()
	c.notify()
}

func (c *Conn) notify() {
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

// Block makes every Write wait until Unblock, Close or the write's context
// ends: a peer that stopped reading. The returned channel is closed when a
// Write starts waiting.
func (c *Conn) Block() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocked = make(chan struct{})
	c.writing = make(chan struct{})
	return c.writing
}

// Unblock lets waiting and later Writes through.
func (c *Conn) Unblock() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocked != nil {
		close(c.blocked)
		c.blocked = nil
	}
}

// Written returns a copy of the messages written so far, in order.
func (c *Conn) Written() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.written)
}

// Count returns how many messages were written.
func (c *Conn) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Calls returns how many Write and WriteBatch calls have written, with
// Options.Discard too: Count()/Calls() is the messages per call.
func (c *Conn) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// WaitWritten waits until at least n messages were written, the Conn is
// closed or ctx ends, and returns the count. Only one WaitWritten may wait
// on a Conn at a time.
func (c *Conn) WaitWritten(ctx context.Context, n int) int {
	c.mu.Lock()
	if c.count >= n || c.closed {
		count := c.count
		c.mu.Unlock()
		return count
	}
	c.waitN = n
	c.progress = make(chan struct{})
	progress := c.progress
	c.mu.Unlock()
	select {
	case <-progress:
	case <-c.done:
	case <-ctx.Done():
	}
	return c.Count()
}

// Done returns a channel closed by Close.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Closed returns the code and reason of Close, and whether it was called.
func (c *Conn) Closed() (code int, reason string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason, c.closed
}
