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
	if c == nil {
		return fmt.Errorf("%w: nil Conn", ErrInvalidOptions)
	}
	if h == nil {
		_ = c.Close(codeInternal, reasonInternal)
		return fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	}
	err := m.serve(ctx, c, h)
	if errors.Is(err, managerClosedError{}) {
		_ = c.Close(codeGoingAway, reasonGoingAway)
		return ErrClosed
	}
	return err
}

// Serve gets the Manager of uc and serves c with it, as Manager.Serve does.
// Unlike calling Manager and Manager.Serve in turn, it retries with a new
// Manager if the one it got was closed in between (by the idle janitor, for
// example). It closes the transport on every error, with 1008 for an invalid
// uc or ErrUserLimit, and 1001 for ErrClosed.
func (f *Factory) Serve(ctx context.Context, uc UserContext, c Conn, h Handler) error {
	if c == nil {
		return fmt.Errorf("%w: nil Conn", ErrInvalidOptions)
	}
	if h == nil {
		_ = c.Close(codeInternal, reasonInternal)
		return fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	}
	for attempt := 0; ; attempt++ {
		m, err := f.Manager(uc)
		switch {
		case errors.Is(err, ErrInvalidUser):
			_ = c.Close(codePolicy, "invalid user")
			return err
		case errors.Is(err, ErrUserLimit):
			_ = c.Close(codeTryAgain, reasonUserLimit)
			return err
		case err != nil:
			_ = c.Close(codeGoingAway, reasonGoingAway)
			return err
		}
		err = m.serve(ctx, c, h)
		// A Manager closed between Manager and Serve rejects the
		// connection before touching it; a fresh one will not, unless the
		// factory is closing.
		if !errors.Is(err, managerClosedError{}) {
			return err
		}
		if f.isClosed.Load() || attempt == 2 {
			_ = c.Close(codeGoingAway, reasonGoingAway)
			return ErrClosed
		}
	}
}

// managerClosedError is serve's ErrClosed for a Manager that was closed
// before the connection registered; the transport has not been touched yet.
type managerClosedError struct{}

func (managerClosedError) Error() string { return ErrClosed.Error() }
func (managerClosedError) Unwrap() error { return ErrClosed }

func (m *Manager) serve(ctx context.Context, conn Conn, h Handler) error {
	f := m.f
	mach, err := statemachine.NewConn(f.opts.Machine)
	if err != nil { // validated by NewFactory; kept so a change there cannot turn into a nil machine
		_ = conn.Close(codeInternal, reasonInternal)
		return fmt.Errorf("%w: Machine: %w", ErrInvalidOptions, err)
	}
	c := newConnection(ctx, m, conn, mach)
	if err := m.register(c); err != nil {
		c.cancel()
		if errors.Is(err, ErrConnLimit) {
			_ = conn.Close(codeTryAgain, reasonConnLimit)
			return ErrConnLimit
		}
		return managerClosedError{}
	}

	wroteLoop := false
	defer func() {
		if !wroteLoop {
			// Serve is unwinding before the writer started (a panic in
			// OnConnect or an observer): close and clean up here.
			c.requestClose(causeClosed, codeInternal, reasonInternal, nil)
			c.shutdown()
			m.unregister(c)
			_ = mach.Transition(statemachine.Failed, "serve aborted")
		}
	}()
	if f.opts.OnConnect != nil {
		f.opts.OnConnect(c)
	}
	stop := context.AfterFunc(ctx, func() {
		c.requestClose(causeContext, codeGoingAway, reasonGoingAway, nil)
	})
	defer stop()

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
		if err := mach.Transition(s, "serve"); err != nil {
			// Someone else moved the machine (a handler holding it, or an
			// observer): that is theirs to do, but Serve cannot continue.
			c.requestClose(causeClosed, codeInternal, reasonInternal, nil)
		}
	}
	wroteLoop = true
	go c.writeLoop()
	if !c.closing.Load() {
		m.readLoop(c, h)
	}
	<-c.done
	m.unregister(c)

	why, _, _, cerr := c.closeState()
	final := statemachine.Closed
	if why.failed() {
		final = statemachine.Failed
	}
	_ = mach.Transition(final, why.String())

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

// readLoop reads until the connection closes, passing messages to h. After
// a close is requested it keeps reading, and discards, until the writer's
// Close makes Read fail.
func (m *Manager) readLoop(c *Connection, h Handler) {
	for {
		msg, err := c.conn.Read(c.ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.requestClose(causePeer, codeNormal, "", nil)
			} else if c.requestClose(causeRead, codeInternal, "", err) {
				m.f.log.Debug("wsmanager: read failed", "conn", c.id, "err", err)
			}
			return
		}
		if c.closing.Load() {
			continue
		}
		if err := m.handle(c, h, msg); err != nil {
			// errors.Is would look inside the handler's own error.
			if _, ok := err.(panicError); ok {
				if c.requestClose(causePanic, codeInternal, reasonInternal, err.(panicError).error) {
					m.f.stats.handlerPanics.Add(1)
				}
				continue
			}
			if c.requestClose(causeHandler, codeInternal, reasonInternal, fmt.Errorf("wsmanager: handler: %w", err)) {
				m.f.stats.handlerErrors.Add(1)
				m.f.log.Info("wsmanager: handler failed; closing connection", "conn", c.id, "err", err)
			}
		}
	}
}

// panicError marks an error made from a handler's panic.
type panicError struct{ error }

func (m *Manager) handle(c *Connection, h Handler, msg []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			m.f.log.Error("wsmanager: handler panicked; closing connection",
				"conn", c.id, "panic", r, "stack", string(debug.Stack()))
			err = panicError{fmt.Errorf("%w: %v", ErrHandlerPanic, r)}
		}
	}()
	return h.HandleMessage(c.ctx, c, msg)
}
