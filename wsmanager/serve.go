package wsmanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/ssotkit/ssot/statemachine"
)

// Serve registers c with the Manager, drives its machine from Connecting to
// ProcessingReady, starts its writer and then reads messages and hands them
// to h, one at a time, until the connection closes. It returns when the
// connection is closed and removed, its writer has exited and its machine is
// in Closed or Failed. Call it on the goroutine that owns the connection,
// such as the HTTP handler's.
//
// It returns nil when the peer closed (Read returned an error wrapping
// io.EOF) or ctx ended (the connection is closed with 1001), and otherwise:
//
//   - ErrClosed, after Connection.Close, Manager.Close or Factory.Close
//     (also when the Manager was already closed: the transport is closed
//     with 1001);
//   - ErrConnLimit, when the Manager has MaxConnsPerManager connections
//     (the transport is closed with 1013);
//   - the handler's error wrapped, or an error wrapping ErrHandlerPanic,
//     after closing with 1011 and the reason "internal error";
//   - ErrQueueFull (CloseSlow) or ErrWriteTimeout, after closing with 1008;
//   - the Conn's read or write error wrapped, after closing quietly.
//
// The machine ends in Closed, through Closing, in the first two cases and
// after Close; in Failed otherwise.
func (m *Manager) Serve(ctx context.Context, c Conn, h Handler) error {
	if err := checkServe(c, h); err != nil {
		return err
	}
	conn, err := m.accept(ctx, c)
	if err != nil {
		return err
	}
	return conn.run(h)
}

// Serve gets the Manager of uc and serves c with it, as Manager.Serve does.
// Unlike calling Manager and Manager.Serve in turn, it retries with a new
// Manager if the one it got was closed in between (by the idle janitor, for
// example). It closes the transport on every error: with 1008 for an
// invalid uc, 1013 for ErrUserLimit and ErrConnLimit, and 1001 for
// ErrClosed.
func (f *Factory) Serve(ctx context.Context, uc UserContext, c Conn, h Handler) error {
	if err := checkServe(c, h); err != nil {
		return err
	}
	conn, err := f.accept(ctx, uc, c)
	if err != nil {
		return err
	}
	return conn.run(h)
}

func checkServe(c Conn, h Handler) error {
	if c == nil {
		return fmt.Errorf("%w: nil Conn", ErrInvalidOptions)
	}
	if h == nil {
		_ = c.Close(codeInternal, reasonInternal)
		return fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	}
	return nil
}

// accept is Factory.Serve up to the read loop. It closes c on every error.
func (f *Factory) accept(ctx context.Context, uc UserContext, c Conn) (*Connection, error) {
	conn, err := f.reserve(ctx, uc, c)
	if err != nil {
		closeRefused(c, err)
		return nil, err
	}
	conn.start(ctx)
	return conn, nil
}

// reserve gets the Manager of uc and registers a connection with it, as
// Manager.reserve does, retrying with a new Manager if the one it got was
// closed in between (by the idle janitor, for example). c may be nil: the
// endpoint reserves before it upgrades. The transport is not touched.
func (f *Factory) reserve(ctx context.Context, uc UserContext, c Conn) (*Connection, error) {
	for attempt := 0; ; attempt++ {
		m, err := f.Manager(uc)
		if err != nil {
			return nil, err
		}
		conn, err := m.reserve(ctx, c)
		// A Manager closed between Manager and reserve rejects the
		// connection; a fresh one will not, unless the factory is closing.
		if !errors.Is(err, managerClosedError{}) {
			return conn, err
		}
		if f.isClosed.Load() || attempt == 2 {
			return nil, ErrClosed
		}
	}
}

// closeRefused closes the transport of a connection that reserve refused,
// with the code its error calls for.
func closeRefused(c Conn, err error) {
	switch {
	case errors.Is(err, ErrInvalidUser):
		_ = c.Close(codePolicy, "invalid user")
	case errors.Is(err, ErrUserLimit):
		_ = c.Close(codeTryAgain, reasonUserLimit)
	case errors.Is(err, ErrConnLimit):
		_ = c.Close(codeTryAgain, reasonConnLimit)
	case errors.Is(err, ErrInvalidOptions):
		_ = c.Close(codeInternal, reasonInternal)
	default:
		_ = c.Close(codeGoingAway, reasonGoingAway)
	}
}

// managerClosedError is reserve's ErrClosed for a Manager that was closed
// before the connection registered; the transport has not been touched yet.
type managerClosedError struct{}

func (managerClosedError) Error() string { return ErrClosed.Error() }
func (managerClosedError) Unwrap() error { return ErrClosed }

// accept registers conn and drives its machine to ProcessingReady. It is
// separate from the read loop so that its frame is gone while the loop
// waits in Read: the goroutine serving an idle connection then fits in the
// smallest stack. It closes conn on every error.
func (m *Manager) accept(ctx context.Context, conn Conn) (*Connection, error) {
	c, err := m.reserve(ctx, conn)
	if err != nil {
		closeRefused(conn, err)
		if errors.Is(err, managerClosedError{}) {
			return nil, ErrClosed
		}
		return nil, err
	}
	c.start(ctx)
	return c, nil
}

// reserve registers a connection to be served with conn, which may be nil
// until start gives it one, and calls Options.OnConnect. The machine stays
// in Connecting and messages sent to the connection are queued: from the
// moment reserve returns, the connection is reachable and nothing sent to
// it is lost. A reservation ends with start or abort. reserve never touches
// conn except to close it when OnConnect panics.
func (m *Manager) reserve(ctx context.Context, conn Conn) (*Connection, error) {
	f := m.f
	// One table for all connections: NewConn would build one per call.
	mach, err := statemachine.New(f.table, statemachine.Connecting, f.opts.Machine)
	if err != nil { // validated by NewFactory; kept so a change there cannot turn into a nil machine
		return nil, fmt.Errorf("%w: Machine: %w", ErrInvalidOptions, err)
	}
	c := newConnection(ctx, m, conn, mach)
	if err := m.register(c); err != nil {
		c.cancel()
		if errors.Is(err, ErrConnLimit) {
			return nil, ErrConnLimit
		}
		return nil, managerClosedError{}
	}
	if f.opts.OnConnect != nil {
		ok := false
		defer func() {
			if !ok {
				c.abort() // OnConnect panicked; the panic goes on
			}
		}()
		f.opts.OnConnect(c)
		ok = true
	}
	return c, nil
}

// abort ends a connection whose writer never ran: a reservation that will
// not be served (the upgrade failed), or a setup that unwound (OnConnect or
// an observer panicked). Queued messages are dropped, a transport it has is
// closed as the first close request asked (1011 if none did), the
// connection is removed and its machine ends in Failed.
func (c *Connection) abort() {
	c.requestClose(causeClosed, codeInternal, reasonInternal, nil)
	c.shutdown()
	c.m.unregister(c)
	_ = c.mach.Transition(statemachine.Failed, "serve aborted")
}

// start drives a reserved connection, which has its transport, through the
// setup states to ProcessingReady and lets its writer start.
func (c *Connection) start(ctx context.Context) {
	c.stopCtx = context.AfterFunc(ctx, func() {
		c.requestClose(causeContext, codeGoingAway, reasonGoingAway, nil)
	})
	started := false
	defer func() {
		if !started {
			// Unwinding before the writer may start (a panic in an
			// observer): close and clean up here.
			c.stopCtx()
			c.abort()
		}
	}()

	// The caller authenticated the connection before calling Serve, so the
	// setup states are passed through in order.
	for _, s := range [...]statemachine.ConnState{
		statemachine.Accepted,
		statemachine.Authenticated,
		statemachine.ServicesReady,
		statemachine.ProcessingReady,
	} {
		if c.closing.Load() {
			break
		}
		if err := c.mach.Transition(s, "serve"); err != nil {
			// Someone else moved the machine (a handler holding it, or an
			// observer): that is theirs to do, but Serve cannot continue.
			c.requestClose(causeClosed, codeInternal, reasonInternal, nil)
		}
	}
	started = true
	c.markReady()
}

// run reads until the connection closes, then waits for its writer,
// removes it and reports how it ended.
func (c *Connection) run(h Handler) error {
	if !c.closing.Load() {
		c.readLoop(h)
	}
	return c.finish()
}

// readLoop reads until the connection closes, passing messages to h. After
// a close is requested it keeps reading, and discards, until the writer's
// Close makes Read fail. The rare paths live in other functions to keep
// this frame, which sits under every idle Read, small.
func (c *Connection) readLoop(h Handler) {
	for {
		msg, err := c.conn.Read(c.ctx)
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.closing.Load() {
			continue
		}
		if err := c.handle(h, msg); err != nil {
			c.handlerFailed(err)
		}
	}
}

func (c *Connection) readFailed(err error) {
	if errors.Is(err, io.EOF) {
		c.requestClose(causePeer, codeNormal, "", nil)
	} else if c.requestClose(causeRead, codeInternal, "", err) {
		c.m.f.log.Debug("wsmanager: read failed", "conn", c.id, "err", err)
	}
}

func (c *Connection) handlerFailed(err error) {
	f := c.m.f
	// errors.Is would look inside the handler's own error.
	if p, ok := err.(panicError); ok {
		if c.requestClose(causePanic, codeInternal, reasonInternal, p.error) {
			f.stats.handlerPanics.Add(1)
		}
		return
	}
	if c.requestClose(causeHandler, codeInternal, reasonInternal, fmt.Errorf("wsmanager: handler: %w", err)) {
		f.stats.handlerErrors.Add(1)
		f.log.Info("wsmanager: handler failed; closing connection", "conn", c.id, "err", err)
	}
}

// finish waits for the writer to close the Conn, removes the connection and
// moves its machine to Closed or Failed.
func (c *Connection) finish() error {
	c.stopCtx()
	<-c.done
	c.m.unregister(c)

	why, _, _, cerr := c.closeState()
	final := statemachine.Closed
	if why.failed() {
		final = statemachine.Failed
	}
	_ = c.mach.Transition(final, why.String())

	switch why {
	case causePeer, causeContext:
		return nil
	case causeClosed:
		return ErrClosed
	case causeRead:
		return fmt.Errorf("wsmanager: read: %w", cerr)
	case causeWrite:
		return fmt.Errorf("wsmanager: write: %w", cerr)
	}
	return cerr
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
