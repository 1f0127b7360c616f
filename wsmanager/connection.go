package wsmanager

import (
	"context"
	"crypto/rand"
	"runtime"
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
	done   chan struct{} // closed once the Conn is closed
	// stopCtx stops watching Serve's context; set before the machine
	// leaves Connecting and called once Serve is done.
	stopCtx func() bool

	closing atomic.Bool   // mirrors closed below, for lock-free checks
	writing atomic.Bool   // the writer is inside Conn.Write
	writes  atomic.Uint64 // Conn.Write calls started; the watchdog's progress mark

	// Owned by the running writer goroutine; handed from one writer to the
	// next through mu.
	spare [][]byte

	// Owned by the janitor's write watchdog.
	wdWrites uint64
	wdTicks  int

	mu       sync.Mutex
	q        [][]byte    // messages waiting for the writer, oldest first
	inflight int         // messages the writer has taken and not finished
	ready    bool        // the machine reached ProcessingReady: writing may start
	running  bool        // a writer goroutine exists
	closed   bool        // a close was requested; the fields below are set
	abandon  *time.Timer // set if a writer ran at the close request: bounds its last write
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
// after the write under way, if any, which is abandoned if it has not
// finished within Options.WriteTimeout; queued messages are discarded. It
// does not wait. It returns ErrClosed if the connection is already closing.
// Serve then returns ErrClosed.
func (c *Connection) Close(code int, reason string) error {
	if !c.requestClose(causeClosed, code, reason, nil) {
		return ErrClosed
	}
	return nil
}

// enqueue appends msg to the queue and starts a writer if none runs. It is
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
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return nil
}

// startWriterLocked reports whether the caller must start a writer
// goroutine, and records that one runs. Writers exist only while there is
// work: an idle connection costs no goroutine.
func (c *Connection) startWriterLocked() bool {
	if !c.ready || c.running {
		return false
	}
	c.running = true
	return true
}

// markReady lets the writer start, and starts it if messages are already
// queued or a close was requested during setup.
func (c *Connection) markReady() {
	c.mu.Lock()
	c.ready = true
	start := (len(c.q) > 0 || c.closed) && c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// requestClose records the first reason to close and makes sure a writer
// runs to close the Conn. It never blocks and never calls the Conn, so any
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
	if c.running {
		// The writer may be inside Write, and the janitor's watchdog
		// stops watching a connection once its Manager is closed or the
		// Factory is: bound that write here, so a peer that stopped
		// reading cannot hold Serve or Factory.Close past WriteTimeout.
		c.abandon = time.AfterFunc(c.m.f.opts.WriteTimeout, c.cancel)
	}
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// closeState returns what requestClose recorded.
func (c *Connection) closeState() (cause, int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause, c.code, c.reason, c.err
}

// lingerYields is how many times an idle writer yields before it exits.
const lingerYields = 3

// idleBufferCap is the largest queue buffer kept while a connection is
// idle: enough that steady traffic allocates nothing, small enough that an
// idle connection costs little.
const idleBufferCap = 8

// writeLoop is the connection's writer: at most one runs per connection,
// started by the first message queued while none runs, and exiting when the
// queue is empty. It writes queued messages in order; once a close is
// requested it closes the Conn instead. Serve waits for the last one through
// the done channel.
func (c *Connection) writeLoop() {
	f := c.m.f
	lingered := 0
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			c.shutdown()
			return
		}
		batch := c.q
		if len(batch) == 0 && lingered < lingerYields {
			// A fan-out enqueues message after message: give the producer
			// a few scheduling slots to queue the next before this
			// goroutine exits, rather than exiting and being started again
			// for it.
			lingered++
			c.mu.Unlock()
			runtime.Gosched()
			continue
		}
		lingered = 0
		if len(batch) == 0 {
			c.running = false
			c.inflight = 0
			// Keep one small buffer for the next message, so that a
			// connection receiving one message at a time allocates nothing.
			if cap(batch) == 0 {
				batch = c.spare
			}
			if cap(batch) > idleBufferCap {
				batch = nil
			}
			c.q, c.spare = batch, nil
			c.mu.Unlock()
			return
		}
		c.q = c.spare[:0]
		c.spare = nil
		c.inflight = len(batch)
		c.mu.Unlock()

		n := 0
		for i, msg := range batch {
			if c.closing.Load() {
				break
			}
			// No timer per write: the janitor's watchdog sees a write
			// that makes no progress (see watchWrites). Arming a timer
			// would read the clock and lock the timer heap on every
			// message of every fan-out.
			c.writes.Add(1)
			c.writing.Store(true)
			err := c.conn.Write(c.ctx, msg)
			c.writing.Store(false)
			batch[i] = nil
			if err != nil {
				// After a timeout the write fails because its context was
				// cancelled; requestClose keeps the first cause.
				c.requestClose(causeWrite, codeInternal, "", err)
				break
			}
			n++
		}
		clear(batch)
		c.spare = batch[:0]
		f.stats.written.Add(uint64(n))
	}
}

// writeTimedOut is called by the watchdog when a write exceeded
// Options.WriteTimeout: it closes the connection with 1008 and cancels the
// write's context so that Write returns.
func (c *Connection) writeTimedOut() {
	if c.requestClose(causeWriteTimeout, codePolicy, reasonTimeout, ErrWriteTimeout) {
		c.m.f.stats.slowCloses.Add(1)
	}
	c.cancel()
}

// shutdown closes the Conn with the recorded code and reason; a released
// reservation has no Conn to close. A clean close passes through Closing
// first; failures go straight to Failed later, as the machine's table
// requires.
func (c *Connection) shutdown() {
	defer close(c.done)
	c.mu.Lock()
	why, code, reason, abandon := c.cause, c.code, c.reason, c.abandon
	c.mu.Unlock()
	if abandon != nil {
		abandon.Stop()
	}
	if !why.failed() && c.mach.State().IsOperational() {
		_ = c.mach.Transition(statemachine.Closing, why.String())
	}
	if c.conn != nil {
		if err := c.conn.Close(code, reason); err != nil && why != causePeer {
			c.m.f.log.Debug("wsmanager: close", "conn", c.id, "err", err)
		}
	}
	c.cancel()
}
