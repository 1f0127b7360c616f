package wsmanager

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/statemachine"
)

// Connection is one connection registered with a Manager: its identity,
// its state machine, its bounded queue and the writer goroutine that drains
// the queue into its transport.
//
// The machine is the one record of the connection's lifecycle, and it
// decides every step: messages are handed to the transport only while it is
// operational (ProcessingReady, Processing, Idle, Degraded); in Reconnecting,
// or before set-up completes, they wait in the queue; a transition to
// Closing, by anyone, closes the connection, and only once its transport is
// closed does the machine reach Closed or Failed (see MachineTable).
//
// All methods are safe for concurrent use. Send never waits for the peer
// and never calls the transport: the connection's own writer goroutine
// performs every write and the close, so a slow or stuck peer delays
// nobody but itself. A Send that CloseSlow refuses moves the machine to
// Closing on the sender's goroutine, so the machine's observers run there,
// their panics contained (see Options.OnPanic). The zero
// value is not usable; connections are created by Factory.Reserve and the
// Serve methods.
type Connection struct {
	id   string
	m    *Manager
	mach *statemachine.Conn
	// ctx is the handlers' context: the values of the context given to
	// Serve or Reserve, cancelled once the transport is closed, or the
	// connection was abandoned before it had one, and only then: the
	// package's record of that too (see isDone). Its Done channel is made
	// only when someone asks for it.
	ctx    context.Context
	cancel context.CancelFunc

	// The fields below are guarded by mu. They are ordered to leave no
	// padding, and what an idle connection has no use for is a pointer: a
	// server keeps one Connection per idle client.
	mu       sync.Mutex
	tr       Conn        // the transport; nil until Serve gives it
	out      transport   // how the writer writes to tr
	pushed   *pushReader // tr's receiver, when it is a PushConn served as one
	q        queue
	spare    [][]byte       // a small batch buffer kept between writers
	expiry   *time.Timer    // closes the connection when its identity expires; nil if it never does
	ident    *auth.Identity // what it was served with, or last refreshed to; nil if none
	end      ending         // the first close request; zero until one is made
	ended    *Ending        // how it ended, once the transport is closed; nil before
	aborted  bool           // out was aborted: nothing more is written
	writer   bool           // a writer goroutine runs, or has closed the transport
	peerCode int32          // the peer's close code, when it closed: two bytes on the wire
}

// newConnection makes a connection of m with its machine, whose observers'
// panics, on whichever goroutine moves it, are contained by
// observerPanicked.
func newConnection(ctx context.Context, m *Manager) (*Connection, error) {
	f := m.f
	c := &Connection{
		id: rand.Text(),
		m:  m,
		q:  newQueue(f.opts.QueueSize, f.opts.QueueBytes),
	}
	// The transport outlives a cancelled request context until it has been
	// closed with a proper code, so the handlers' context keeps the
	// caller's values but not its cancellation.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	mopts := f.opts.Machine
	mopts.OnPanic = c.observerPanicked
	// One table for all connections: building one per connection would
	// cost an allocation and a validation each time. The connection is
	// the machine's first observer, so it acts on every transition first.
	mach, err := statemachine.NewObserved(f.table, statemachine.Connecting, mopts, (*machineObserver)(c))
	if err != nil { // validated by NewFactory; kept so a change there cannot turn into a nil machine
		return nil, fmt.Errorf("%w: Machine: %w", ErrInvalidOptions, err)
	}
	c.mach = mach
	return c, nil
}

// machineObserver is a Connection as its machine's observer: a type of its
// own keeps Transitioned out of Connection's methods.
type machineObserver Connection

// Transitioned calls observe.
func (o *machineObserver) Transitioned(t statemachine.Transition[statemachine.ConnState]) {
	(*Connection)(o).observe(t)
}

// observerPanicked contains the panic of one of the machine's observers,
// on whichever goroutine moved it, with Factory.observerPanicked.
func (c *Connection) observerPanicked(r any) { c.m.f.observerPanicked(c, r) }

// State returns the connection's current lifecycle state, from its
// machine, the one record of it. Anyone may read it; only the package and
// the Connection's own methods move it.
func (c *Connection) State() statemachine.ConnState { return c.mach.State() }

// isDone reports whether the connection's transport is closed, or it was
// abandoned before it had one.
func (c *Connection) isDone() bool { return c.ctx.Err() != nil }

// ID returns the connection's identifier: 128 bits from crypto/rand, so it
// can be handed to the client without letting it guess another's.
func (c *Connection) ID() string { return c.id }

// User returns the UserContext of the connection's Manager.
func (c *Connection) User() UserContext { return c.m.uc }

// Machine returns the connection's state machine.
//
// Deprecated: the machine is the connection's one record, and moving it
// directly races the writer that reads it. Read the state with State,
// observe it with OnTransition and Wait, and move it with SetProcessing,
// SetIdle, SetDegraded, Pause, Resume and Close. A machine moved through
// Machine all the same is acted on as those verbs' transitions are: a
// transition to Closing closes the connection with 1000 after what was
// queued, Reconnecting pauses the writer before its next batch, and an
// observer's panic is contained as Options.OnPanic says.
func (c *Connection) Machine() *statemachine.Conn { return c.mach }

// Context returns a context that carries the values of the context given to
// Serve (or Reserve) and is cancelled once the connection's transport has
// been closed. It is the context handlers receive; it never bounds a write.
func (c *Connection) Context() context.Context { return c.ctx }

// Pending returns how many messages are queued and not yet handed to the
// transport: the connection's backlog, for a sender that wants to slow
// down before Options.OnFull applies.
func (c *Connection) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.len()
}

// Send queues msg for this connection and returns: it never waits for the
// peer. With Options.History, msg is framed with the zero Position (see
// HistoryOptions.Frame): it is this connection's alone, has no position in
// its user's stream, and is never replayed. msg is written as it is,
// later, by the connection's writer; the caller must not modify it after
// Send, and may share one slice between many Sends. Messages sent before
// the connection is operational are written once it is, in order.
//
// It returns ErrClosed once the machine is in Closing or later, ctx.Err() if
// ctx has already ended, and ErrQueueFull when the queue is full and
// Options.OnFull refused the message (CloseSlow then closes the connection
// with 1008).
func (c *Connection) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch c.enqueue(c.m.f.unpositioned(msg)) {
	case sendClosed:
		return ErrClosed
	case sendSlow:
		c.m.f.stats.queued.Add(1)
		c.closeSlow()
		return ErrQueueFull
	case sendFull:
		c.m.f.stats.queued.Add(1)
		return ErrQueueFull
	}
	c.m.f.stats.queued.Add(1)
	return nil
}

// Close closes the connection with code and reason: what was queued before
// the call is still written, each write bounded by Options.WriteTimeout,
// then the transport is closed, and the machine goes through Closing to
// Closed. A connection that is not operational when Close is called (a
// reservation, one still being set up, one in Reconnecting) writes nothing
// more: what was queued is discarded. It does not wait. It returns
// ErrClosed if the connection is already closing; Serve then returns
// ErrClosed.
func (c *Connection) Close(code int, reason string) error {
	if !c.requestClose(causeClosed, code, reason, nil) {
		return ErrClosed
	}
	return nil
}

// sendResult is what enqueue did with a message.
type sendResult uint8

const (
	sendQueued sendResult = iota
	sendFull              // refused by a full queue (DropNewest)
	sendSlow              // refused by a full queue under CloseSlow: the caller must call closeSlow
	sendClosed            // the machine is in Closing or later
)

// enqueue offers msg to the queue and starts a writer if the machine lets
// one write and none runs. It is the hot path of every fan-out: one lock, a
// ring append and an atomic load; no clock, and no allocation while the
// ring has room. The caller counts every message not refused as closed in
// Stats.MessagesQueued (once per call, not per connection, to keep the
// shared counter off the per-connection path); each is later counted in
// exactly one of MessagesWritten, MessagesDropped and MessagesDiscarded.
//
// A message refused under CloseSlow returns sendSlow, and the caller then
// calls closeSlow once it holds no lock: the close runs the machine's
// observers, which may call the Factory, on the caller's goroutine, and
// fan-outs enqueue under the Factory's and the stream's locks.
func (c *Connection) enqueue(msg []byte) sendResult {
	f := c.m.f
	c.mu.Lock()
	st := c.mach.State()
	if st >= statemachine.Closing {
		c.mu.Unlock()
		return sendClosed
	}
	ok, dropped := c.q.offer(msg, f.opts.OnFull == DropOldest)
	start := ok && st.IsOperational() && c.claimWriterLocked()
	c.mu.Unlock()
	if dropped > 0 {
		f.stats.dropped.Add(uint64(dropped))
	}
	if start {
		c.startWriter()
	}
	if ok {
		return sendQueued
	}
	if f.opts.OnFull == CloseSlow {
		f.stats.discarded.Add(1)
		return sendSlow
	}
	f.stats.dropped.Add(1)
	return sendFull
}

// offer queues msg to c for a send to many connections: it counts msg in n
// if queued, in full if a full queue refused it, and appends c to slow
// when the refusal was under CloseSlow, for the caller to close once it
// holds no lock. A closed connection counts in neither.
func (c *Connection) offer(msg []byte, n, full *int, slow []*Connection) []*Connection {
	switch c.enqueue(msg) {
	case sendQueued:
		*n++
	case sendFull:
		*full++
	case sendSlow:
		*full++
		slow = append(slow, c)
	}
	return slow
}

// closeSlow closes a connection whose full queue refused a message under
// CloseSlow, with 1008. The caller holds no lock.
func (c *Connection) closeSlow() {
	if c.requestClose(causeSlow, CodePolicyViolation, reasonSlow, nil) {
		c.m.f.stats.slowCloses.Add(1)
	}
}

// closeSlow closes each of conns as Connection.closeSlow does.
func closeSlow(conns []*Connection) {
	for _, c := range conns {
		c.closeSlow()
	}
}

// claimWriterLocked reports whether the caller must start a writer, with
// startWriter once it holds no lock, and records that one runs. A writer
// needs a transport, and runs only while there is work: an idle connection
// costs no goroutine of its writer.
func (c *Connection) claimWriterLocked() bool {
	if c.tr == nil || c.writer {
		return false
	}
	c.writer = true
	return true
}

// startWriter starts the connection's writer goroutine: the one place it
// is started, by whoever claimed it with claimWriterLocked. The connection
// owns it: it runs until it has nothing it may write, and its last act on
// a closing connection is to close the transport, which Serve and
// Factory.Close wait for.
func (c *Connection) startWriter() { go c.writeLoop() }

// observe is the connection's machine observer, registered first. Entering
// an operational state lets the writer resume what is queued; entering
// Closing, by anyone, closes the connection.
func (c *Connection) observe(t statemachine.Transition[statemachine.ConnState]) {
	switch {
	case t.To >= statemachine.Closing:
		// Closed and Failed are the package's to enter once the transport
		// is closed, but MachineTable cannot tell who moves the machine:
		// if someone else moved it on from Closing, the writer still
		// closes the transport.
		c.mu.Lock()
		if c.end.why == causeNone {
			// Nobody asked the package to close: the machine was moved
			// to Closing directly, which closes normally.
			c.end = ending{why: causeMachine, code: CodeNormal, discard: !t.From.IsOperational()}
		}
		start := c.claimWriterLocked()
		c.mu.Unlock()
		if start {
			c.startWriter()
		}
	case t.To.IsOperational():
		c.kick()
	}
}

// kick starts a writer if messages wait and the machine lets it write.
func (c *Connection) kick() {
	c.mu.Lock()
	st := c.mach.State()
	start := (st >= statemachine.Closing || st.IsOperational() && c.q.len() > 0) && c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		c.startWriter()
	}
}

// requestClose records the first reason to close and moves the machine to
// Closing, whose observer makes sure a writer runs to close the transport.
// It never blocks and never calls the transport, so any goroutine may call
// it: a sender that found the queue full, a timer, the factory. It reports
// whether this call was the first. Either way, the machine is in Closing or
// later when it returns.
func (c *Connection) requestClose(why cause, code int, reason string, err error) bool {
	c.mu.Lock()
	st := c.mach.State()
	if c.end.why != causeNone || st >= statemachine.Closing {
		first := c.end.why
		c.mu.Unlock()
		if st < statemachine.Closing {
			// The first request is recorded but its caller has not
			// moved the machine yet: the callers of this one (abandon,
			// finish) rely on it being in Closing, so move it here;
			// whichever transition comes second fails harmlessly.
			_ = c.transition(statemachine.Closing, first.String())
		}
		return false
	}
	c.end = ending{why: why, code: code, reason: reason, err: err, discard: !why.delivers() || !st.IsOperational()}
	c.mu.Unlock()
	if why == causeSlow || why == causeWriteTimeout {
		// The peer is not reading: the write under way would only
		// delay the close until its deadline.
		c.abortWrites()
	}
	// Fails only if the machine reached Closing in between, whose
	// observer then found this request.
	_ = c.transition(statemachine.Closing, why.String())
	return true
}

// abortWrites ends the write under way, if any, and every later one: the
// writer discards what is left and closes without a close frame.
func (c *Connection) abortWrites() {
	c.mu.Lock()
	out := c.out
	c.aborted = true
	c.mu.Unlock()
	if out != nil {
		out.Abort()
	}
}

// ending returns the first close request.
func (c *Connection) ending() ending {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end
}
