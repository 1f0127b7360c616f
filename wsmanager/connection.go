package wsmanager

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// Connection is one Conn registered with a Manager: its identity, its state
// machine, its bounded send queue and the writer goroutine that drains it.
//
// All methods are safe for concurrent use. Send never blocks and never calls
// the Conn: the connection's own writer goroutine performs every Write and
// the Close, so a slow or stuck peer delays nobody but itself. The zero value
// is not usable; connections are created by Manager.Serve.
type Connection struct {
	id     string
	m      *Manager
	conn   Conn
	mach   *statemachine.Conn
	ctx    context.Context // cancelled once the Conn is closed
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "the queue or the close state changed"
	done   chan struct{} // closed when the writer has closed the Conn and exited

	closing atomic.Bool // mirrors closed below, for lock-free checks
	writing atomic.Bool // the writer is inside Conn.Write

	mu       sync.Mutex
	q        [][]byte // messages waiting for the writer, oldest first
	inflight int      // messages the writer has taken and not finished
	awake    bool     // the writer has been woken and has not yet found the queue empty
	closed   bool     // a close was requested; the fields below are set
	cause    cause
	code     int
	reason   string
	err      error // what failed, for Serve's return value
}

func newConnection(ctx context.Context, m *Manager, conn Conn, mach *statemachine.Conn) *Connection {
	c := &Connection{
		id:   rand.Text(),
		m:    m,
		conn: conn,
		mach: mach,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	// The Conn outlives a cancelled request context until it has been
	// closed with a proper code, so the connection's context keeps the
	// caller's values but not its cancellation.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return c
}

// ID returns the connection's identifier: 128 bits from crypto/rand, so it
// can be handed to the client without letting it guess another's.
func (c *Connection) ID() string { return c.id }

// User returns the UserContext of the connection's Manager.
func (c *Connection) User() UserContext { return c.m.uc }

// Machine returns the connection's state machine. Serve drives it; a handler
// may move it between the operational states (Processing, Idle, Degraded)
// and observe it.
func (c *Connection) Machine() *statemachine.Conn { return c.mach }

// Context returns a context that carries the values of the context given to
// Serve and is cancelled once the connection's Conn has been closed. It is
// the context handlers receive.
func (c *Connection) Context() context.Context { return c.ctx }

// Send queues msg for this connection and returns at once: it never waits
// for the peer. msg is written as it is, later, by the connection's writer;
// the caller must not modify it after Send, and may share one slice between
// many Sends. Messages sent before the connection is ready are written once
// it reaches ProcessingReady, in order.
//
// It returns ErrClosed once the connection is closing, ctx.Err() if ctx has
// already ended, and ErrQueueFull when the queue is full and Options.OnFull
// refused the message (CloseSlow then closes the connection with 1008).
func (c *Connection) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.enqueue(msg)
	if err == nil {
		c.m.f.stats.queued.Add(1)
	}
	return err
}

// Close asks the connection's writer to close the Conn with code and reason,
// after the write under way, if any; queued messages are discarded. It does
// not wait. It returns ErrClosed if the connection is already closing.
// Serve then returns ErrClosed.
func (c *Connection) Close(code int, reason string) error {
	if !c.requestClose(causeClosed, code, reason, nil) {
		return ErrClosed
	}
	return nil
}

// enqueue appends msg to the queue and wakes the writer if it sleeps. It is
// the hot path of every fan-out: one lock, an append and at most one
// non-blocking channel send; no clock, no allocation while the queue's
// buffer has room.
func (c *Connection) enqueue(msg []byte) error {
	f := c.m.f
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.q)+c.inflight >= f.opts.QueueSize {
		switch {
		case f.opts.OnFull == DropOldest && len(c.q) > 0:
			copy(c.q, c.q[1:])
			c.q[len(c.q)-1] = msg
			c.mu.Unlock()
			f.stats.dropped.Add(1)
			return nil
		case f.opts.OnFull == CloseSlow:
			c.mu.Unlock()
			if c.requestClose(causeSlow, codePolicy, reasonSlow, ErrQueueFull) {
				f.stats.slowCloses.Add(1)
				// A writer stuck in Write would close the Conn only at
				// WriteTimeout; the peer is not reading, so abandoning the
				// write now loses nothing it could still receive.
				if c.writing.Load() {
					c.cancel()
				}
			}
			return ErrQueueFull
		default: // DropNewest, or DropOldest with every message already taken by the writer
			c.mu.Unlock()
			f.stats.dropped.Add(1)
			return ErrQueueFull
		}
	}
	c.q = append(c.q, msg)
	wake := !c.awake
	c.awake = true
	c.mu.Unlock()
	if wake {
		c.signal()
	}
	return nil
}

func (c *Connection) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// requestClose records the first reason to close and wakes the writer,
// which closes the Conn. It never blocks and never calls the Conn, so any
// goroutine may call it: a sender that found the queue full, a timer, the
// factory. It reports whether this call was the first.
func (c *Connection) requestClose(why cause, code int, reason string, err error) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.closing.Store(true)
	c.cause, c.code, c.reason, c.err = why, code, reason, err
	c.q = nil
	c.mu.Unlock()
	c.signal()
	return true
}

// closeState returns what requestClose recorded.
func (c *Connection) closeState() (cause, int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause, c.code, c.reason, c.err
}

// idleBufferCap is the largest queue buffer a writer keeps while its
// connection is idle: enough that steady traffic allocates nothing, small
// enough that an idle connection costs little.
const idleBufferCap = 8

// writeLoop is the connection's writer goroutine, owned by Serve, which
// waits for it. It writes queued messages in order until a close is
// requested, then closes the Conn and cancels the connection's context.
func (c *Connection) writeLoop() {
	defer close(c.done)
	var spare [][]byte
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	f := c.m.f
	for range c.wake {
		for {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				c.shutdown()
				return
			}
			batch := c.q
			if len(batch) == 0 {
				c.awake = false
				c.inflight = 0
				if cap(batch) > idleBufferCap {
					c.q = nil
				}
				c.mu.Unlock()
				if cap(spare) > idleBufferCap {
					spare = nil
				}
				break
			}
			c.q = spare[:0]
			c.inflight = len(batch)
			c.mu.Unlock()

			n := 0
			for i, msg := range batch {
				if c.closing.Load() {
					break
				}
				if timer == nil {
					timer = time.AfterFunc(f.opts.WriteTimeout, c.writeTimedOut)
				} else {
					timer.Reset(f.opts.WriteTimeout)
				}
				c.writing.Store(true)
				err := c.conn.Write(c.ctx, msg)
				c.writing.Store(false)
				fired := !timer.Stop()
				batch[i] = nil
				if err != nil {
					if !fired {
						c.requestClose(causeWrite, codeInternal, "", err)
					}
					break
				}
				n++
			}
			clear(batch)
			spare = batch[:0]
			f.stats.written.Add(uint64(n))
		}
	}
}

// writeTimedOut runs on the write timer's goroutine when a write exceeded
// Options.WriteTimeout: it closes the connection with 1008 and cancels the
// write's context so that Write returns.
func (c *Connection) writeTimedOut() {
	if c.requestClose(causeWriteTimeout, codePolicy, reasonTimeout, ErrWriteTimeout) {
		c.m.f.stats.slowCloses.Add(1)
	}
	c.cancel()
}

// shutdown closes the Conn with the recorded code and reason. A clean close
// passes through Closing first; failures go straight to Failed later, as the
// machine's table requires.
func (c *Connection) shutdown() {
	why, code, reason, _ := c.closeState()
	if !why.failed() && c.mach.State().IsOperational() {
		_ = c.mach.Transition(statemachine.Closing, why.String())
	}
	if err := c.conn.Close(code, reason); err != nil && why != causePeer {
		c.m.f.log.Debug("wsmanager: close", "conn", c.id, "err", err)
	}
	c.cancel()
}
