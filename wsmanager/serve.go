package wsmanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/statemachine"
)

// Reservation is a connection registered before its transport exists: the
// step between authenticating a request and upgrading it. From the moment
// Reserve returns, the connection is reachable (SendToUser, Broadcast and
// Manager.Send count it) and what is sent to it is queued; Serve gives it
// its transport and delivers the queue in order once the connection is
// operational. Upgrade only after Reserve, so that a client that sees the
// handshake complete can already be reached.
//
// Reserve and Reservation.Serve are the one way in: NewEndpoint,
// Factory.Serve and Manager.Serve are thin wrappers over them.
//
// A Reservation ends exactly once, with Serve or with Release; until then it
// holds a place under the connection limits, and Factory.Close waits for
// it. Its methods may be called concurrently; the zero value is not usable.
type Reservation struct {
	c   *Connection
	ctx context.Context
	end atomic.Bool
}

// Reserve registers a connection for uc and calls Options.OnConnect with
// it. With Options.History, it is ReserveResume from no position: the
// connection is first sent the reset frame that tells its client where its
// stream stands. ctx is the context Serve will use: its values reach handlers, and when
// it ends the connection closes with 1001. Reserve returns an error wrapping
// ErrInvalidUser, or ErrUserLimit, ErrConnLimit, ErrFactoryLimit or
// ErrClosed (only after Close: a Manager the idle janitor removes is never
// handed out), and touches no transport.
//
// When ctx carries an identity (auth.WithIdentity, as NewEndpoint puts the
// authenticated one there), the connection keeps it (Connection.Identity)
// and closes with 1008 "token expired" when its ExpiresAt passes, unless
// Connection.Refresh moves it; this holds for every way in: the Reserve
// methods, ReserveResume and the Serve methods.
func (f *Factory) Reserve(ctx context.Context, uc UserContext) (*Reservation, error) {
	return f.ReserveResume(ctx, uc, Position{})
}

// Reserve registers a connection with this Manager, as Factory.Reserve does
// for the Manager of a UserContext. It returns ErrClosed after Close.
func (m *Manager) Reserve(ctx context.Context) (*Reservation, error) {
	c, err := m.f.join(ctx, m.uc, m, Position{})
	if err != nil {
		return nil, err
	}
	return c.reserved(ctx, nil), nil
}

// reserved gives a newly registered connection its transport, if the
// caller has one already, runs Options.OnConnect and returns the
// connection's reservation. If OnConnect panics, the connection is
// abandoned (its transport, if any, closed) and the panic goes on.
func (c *Connection) reserved(ctx context.Context, tr Conn) *Reservation {
	if id, ok := auth.IdentityFrom(ctx); ok {
		c.setIdentity(id)
	}
	if tr != nil {
		c.setTransport(tr)
	}
	if on := c.m.f.opts.OnConnect; on != nil {
		ok := false
		defer func() {
			if !ok {
				c.abandon()
			}
		}()
		on(c)
		ok = true
	}
	return &Reservation{c: c, ctx: ctx}
}

// Connection returns the reserved connection, for example to queue a first
// message with Send before the transport exists.
func (r *Reservation) Connection() *Connection { return r.c }

// Serve gives the reservation its transport tr and serves it with h: it
// drives the connection's machine from Connecting to ProcessingReady, lets
// its writer deliver what was queued, then reads messages and hands them to
// h, one at a time, until the connection closes: on the calling goroutine,
// or, for a PushConn, on the transport's goroutines as messages arrive
// while the caller waits. It returns when the
// transport is closed, the connection removed, Options.OnDisconnect called
// and the machine in Closed or Failed. Call it on the goroutine that owns
// the connection, such as the HTTP handler's.
//
// It returns nil when the peer closed (Read returned a *CloseError or
// io.EOF), when ctx ended (the connection is closed with 1001) and when the
// machine was moved to Closing (closed with 1000); the machine ends in
// Closed. Otherwise it returns:
//
//   - ErrClosed after Connection.Close, Manager.Close or Factory.Close
//     (machine Closed), and when the reservation has already ended (tr is
//     then closed with 1001);
//   - an error wrapping auth.ErrExpired when the connection's identity
//     expired (closed with 1008, machine Closed);
//   - ErrQueueFull (CloseSlow) or ErrWriteTimeout, after closing with 1008;
//   - the handler's error wrapped, or an error wrapping ErrHandlerPanic,
//     after closing with 1011 and the reason "internal error";
//   - the transport's read or write error wrapped, after closing with 1011;
//   - an error wrapping ErrInvalidOptions for a nil tr or h, which ends the
//     reservation as Release does;
//
// and the machine ends in Failed.
func (r *Reservation) Serve(tr Conn, h Handler) error {
	if err := r.begin(tr, h); err != nil {
		return err
	}
	return r.c.serve(r.ctx, tr, h)
}

// begin ends the reservation, as Serve and Go start, and checks their
// arguments.
func (r *Reservation) begin(tr Conn, h Handler) error {
	if !r.end.CompareAndSwap(false, true) {
		if tr != nil {
			_ = tr.Close(CodeGoingAway, reasonGoingAway)
		}
		return ErrClosed
	}
	if err := checkServe(tr, h); err != nil {
		r.c.abandon()
		return err
	}
	return nil
}

// Go is Serve without waiting: it gives the reservation its transport and
// returns at once, and the connection is served, as Serve serves it, until
// it ends; what Serve would have returned reaches Options.OnDisconnect.
// Factory.Close waits for the connection to finish.
//
// A pull transport (a Conn that is not a PushConn) is read on a goroutine
// of the Factory's, one per connection for its whole life. A PushConn
// (github.com/ssotkit/ssot/contrib/nbiows) is read on the transport's own
// goroutines as messages arrive, so an idle connection served with Go
// holds no goroutine at all.
//
// It lets the goroutine that upgraded the connection return: under
// net/http, the handler's goroutine and the stack it grew handling the
// request are then released. The context given to Reserve must then outlive the request: a
// request's context ends when its handler returns (reserve with
// context.WithoutCancel(r.Context()), as NewEndpoint does with
// EndpointOptions.Detach).
//
// It returns ErrClosed when the reservation has already ended (tr is then
// closed with 1001), and an error wrapping ErrInvalidOptions for a nil tr
// or h (which ends the reservation as Release does); otherwise nil.
func (r *Reservation) Go(tr Conn, h Handler) error {
	if err := r.begin(tr, h); err != nil {
		return err
	}
	if p, ok := tr.(PushConn); ok {
		r.c.servePush(r.ctx, tr, p, h, false)
		return nil
	}
	go func() { _ = r.c.serve(r.ctx, tr, h) }()
	return nil
}

// Release ends a reservation that will not be served, for example because
// the upgrade failed: the connection is removed, what was queued for it is
// discarded and its machine ends in Failed. Release after Serve, or a second
// Release, does nothing.
func (r *Reservation) Release() {
	if r.end.CompareAndSwap(false, true) {
		r.c.abandon()
	}
}

// Serve serves tr with h as a connection of this Manager: Reserve, then
// Reservation.Serve, with the same results. A refused connection's
// transport is closed: with 1013 for ErrConnLimit and ErrFactoryLimit,
// 1001 for ErrClosed.
func (m *Manager) Serve(ctx context.Context, tr Conn, h Handler) error {
	if err := checkServe(tr, h); err != nil {
		return err
	}
	c, err := m.f.join(ctx, m.uc, m, Position{})
	if err != nil {
		closeRefused(tr, err)
		return err
	}
	return c.reserved(ctx, tr).Serve(tr, h)
}

// Serve serves tr with h as a connection of uc's Manager, creating the
// Manager if needed: Reserve, then Reservation.Serve, with the same
// results. A refused connection's transport is closed: with 1008 for an
// invalid uc, 1013 for ErrUserLimit, ErrConnLimit and ErrFactoryLimit, and
// 1001 for ErrClosed.
func (f *Factory) Serve(ctx context.Context, uc UserContext, tr Conn, h Handler) error {
	if err := checkServe(tr, h); err != nil {
		return err
	}
	c, err := f.join(ctx, uc, nil, Position{})
	if err != nil {
		closeRefused(tr, err)
		return err
	}
	return c.reserved(ctx, tr).Serve(tr, h)
}

// checkServe refuses a nil transport or handler, closing the transport if
// there is one.
func checkServe(tr Conn, h Handler) error {
	if tr == nil {
		return fmt.Errorf("%w: nil Conn", ErrInvalidOptions)
	}
	if h == nil {
		_ = tr.Close(CodeInternalError, reasonInternal)
		return fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	}
	return nil
}

// closeRefused closes the transport of a connection that was refused, with
// the code its error calls for.
func closeRefused(tr Conn, err error) {
	code, reason := refusal(err)
	_ = tr.Close(code, reason)
}

// refusal is the close code and reason for a refused connection.
func refusal(err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalidUser):
		return CodePolicyViolation, reasonInvalidUser
	case errors.Is(err, ErrUserLimit):
		return CodeTryAgainLater, reasonUserLimit
	case errors.Is(err, ErrConnLimit):
		return CodeTryAgainLater, reasonConnLimit
	case errors.Is(err, ErrFactoryLimit):
		return CodeTryAgainLater, reasonFactoryLimit
	case errors.Is(err, ErrDraining):
		return CodeTryAgainLater, reasonDraining
	case errors.Is(err, ErrBroker):
		return CodeTryAgainLater, reasonBroker
	}
	return CodeGoingAway, reasonGoingAway
}

// serve is Reservation.Serve once its arguments are checked: the one place
// a connection is served.
func (c *Connection) serve(ctx context.Context, tr Conn, h Handler) error {
	if p, ok := tr.(PushConn); ok {
		return <-c.servePush(ctx, tr, p, h, true).done
	}
	stop, operational := c.start(ctx, tr)
	defer stop()
	if operational {
		c.readLoop(h)
	}
	return c.finish()
}

// start is the beginning of serving, whatever reads the transport: it
// gives the connection tr, closes it with 1001 once ctx ends, and drives
// it to ProcessingReady. It returns the stop of ctx's watch, and whether
// the connection is operational (it is not when a close came first).
func (c *Connection) start(ctx context.Context, tr Conn) (stop func() bool, operational bool) {
	stop = noStop
	if ctx.Done() != nil {
		// A context that cannot end (EndpointOptions.Detach's) costs
		// nothing to watch.
		stop = context.AfterFunc(ctx, func() {
			c.requestClose(causeContext, CodeGoingAway, reasonGoingAway, nil)
		})
	}
	c.attach(tr)
	c.setUp()
	return stop, c.mach.State().IsOperational()
}

// noStop is the stop of a context that cannot end.
func noStop() bool { return true }

// attach gives the connection its transport and starts the writer if a close
// was requested while it had none.
func (c *Connection) attach(tr Conn) {
	c.setTransport(tr)
	c.kick()
}

func (c *Connection) setTransport(tr Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tr == tr {
		// Given already (Factory.Serve and Manager.Serve give it before
		// serving): a writer started meanwhile may be using c.out.
		return
	}
	c.tr = tr
	c.out = newTransport(tr)
	if c.aborted {
		c.out.Abort()
	}
}

// setUp drives the machine through the set-up states to ProcessingReady,
// unless a close is requested first; entering ProcessingReady starts the
// writer on what was queued.
func (c *Connection) setUp() {
	// The caller authenticated the connection before serving it, so the
	// set-up states are passed through in order.
	for _, s := range [...]statemachine.ConnState{
		statemachine.Accepted,
		statemachine.Authenticated,
		statemachine.ServicesReady,
		statemachine.ProcessingReady,
	} {
		if err := c.transition(s, "serve"); err != nil {
			// A close was requested, or an observer or OnConnect moved
			// the machine: that is theirs to do, but set-up cannot go on.
			c.requestClose(causeAborted, CodeInternalError, reasonInternal, nil)
			return
		}
	}
}

// readLoop reads until the transport fails, passing messages to h. After a
// close is requested it keeps reading, and discards, until the writer's
// close makes Read fail. The rare paths live in other functions to keep
// this frame, which sits under every idle Read, small.
func (c *Connection) readLoop(h Handler) {
	limit := &c.m.f.opts.ReadRate
	var b bucket
	for {
		msg, err := c.tr.Read(c.ctx)
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.mach.State() >= statemachine.Closing {
			continue
		}
		if limit.Rate > 0 && !b.allow(limit, time.Now()) {
			c.rateLimited(limit)
			continue
		}
		if err := c.handle(h, msg); err != nil {
			c.handlerFailed(err)
		}
	}
}

// rateLimited applies ReadRate's policy to a message over the limit.
func (c *Connection) rateLimited(limit *RateLimit) {
	f := c.m.f
	f.stats.rateLimited.Add(1)
	if !limit.Drop && c.requestClose(causeRateLimited, CodePolicyViolation, reasonRateLimited, nil) {
		f.stats.rateLimitCloses.Add(1)
	}
}

func (c *Connection) readFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The transport ended the connection because a write ran out of
		// time (Read has no deadline of the package's): the writer's
		// timeout, whichever of the two noticed first.
		if c.requestClose(causeWriteTimeout, CodePolicyViolation, reasonTimeout, nil) {
			c.m.f.stats.slowCloses.Add(1)
		}
		return
	}
	if peerEnded(err) {
		code := CodeNoStatus
		var ce *CloseError
		if errors.As(err, &ce) {
			code = ce.Code
		}
		c.mu.Lock()
		c.peerCode = int32(code) // two bytes on the wire (RFC 6455)
		c.mu.Unlock()
		c.requestClose(causePeer, CodeNormal, "", nil)
	} else if c.requestClose(causeRead, CodeInternalError, reasonInternal, err) {
		c.m.f.log.Debug("wsmanager: read failed", "conn", c.id, "err", err)
	}
}

func (c *Connection) handlerFailed(err error) {
	f := c.m.f
	// errors.Is would look inside the handler's own error.
	if p, ok := err.(panicError); ok {
		if c.requestClose(causePanic, CodeInternalError, reasonInternal, p.error) {
			f.stats.handlerPanics.Add(1)
		}
		return
	}
	if c.requestClose(causeHandler, CodeInternalError, reasonInternal, err) {
		f.stats.handlerErrors.Add(1)
		f.log.Info("wsmanager: handler failed; closing connection", "conn", c.id, "err", err)
	}
}

// panicError marks an error made from a handler's panic.
type panicError struct{ error }

func (c *Connection) handle(h Handler, msg []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.m.f.log.Error("wsmanager: handler panicked; closing connection",
				"conn", c.id, "panic", r, "stack", string(debug.Stack()))
			err = panicError{fmt.Errorf("%w: %v", ErrHandlerPanic, r)}
		}
	}()
	return h.HandleMessage(c.ctx, c, msg)
}

// finish waits for the writer to close the transport, removes the
// connection, moves its machine from Closing to Closed or Failed, and calls
// Options.OnDisconnect with what Serve returns.
func (c *Connection) finish() error {
	// The read loop ended because the transport failed or closed; a close
	// was requested then, unless set-up never reached the read loop.
	c.requestClose(causeAborted, CodeInternalError, reasonInternal, nil)
	<-c.ctx.Done()
	c.stopExpiry()
	c.m.unregister(c)
	// Counted as gone, which is what Factory.Close waits for, only once
	// OnDisconnect has returned.
	defer c.m.f.connRemoved()
	end := c.ending()
	final := statemachine.Closed
	if end.why.failed() {
		final = statemachine.Failed
	}
	_ = c.transition(final, end.why.String())
	err := end.serveErr()
	if on := c.m.f.opts.OnDisconnect; on != nil {
		on(c, err)
	}
	return err
}

// abandon ends a connection that will not be served: a released
// reservation, one whose OnConnect panicked, one given a nil transport or
// handler. What was queued is discarded, its transport, if it has one, is
// closed as the first close request asked, the connection is removed and
// its machine ends in Failed.
func (c *Connection) abandon() {
	c.requestClose(causeAborted, CodeInternalError, reasonInternal, nil)
	c.mu.Lock()
	if c.tr != nil {
		// The writer closes transports; the machine is in Closing, not
		// having been operational, so it discards.
		start := c.claimWriterLocked()
		c.mu.Unlock()
		if start {
			c.startWriter()
		}
	} else {
		discarded := c.q.clear()
		c.mu.Unlock()
		if discarded > 0 {
			c.m.f.stats.discarded.Add(uint64(discarded))
		}
		c.cancel()
	}
	<-c.ctx.Done()
	c.stopExpiry()
	c.m.unregister(c)
	c.m.f.connRemoved()
	_ = c.transition(statemachine.Failed, causeAborted.String())
}
