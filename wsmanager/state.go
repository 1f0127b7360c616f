package wsmanager

import (
	"context"
	"runtime/debug"

	"github.com/ssotkit/ssot/statemachine"
)

// The verbs below are how a handler moves its connection's machine: the
// one record of its lifecycle, which the writer reads before every batch.
// Each returns ErrClosed once the connection is closing, and an error
// wrapping statemachine.ErrInvalidTransition when MachineTable does not
// allow the move from the current state. None of them blocks on the
// transport. An observer's panic is contained (see Options.OnPanic).

// SetProcessing marks the connection as handling a message (Processing).
func (c *Connection) SetProcessing() error { return c.moveTo(statemachine.Processing, "processing") }

// SetIdle marks the connection as having nothing to do for a while (Idle).
func (c *Connection) SetIdle() error { return c.moveTo(statemachine.Idle, "idle") }

// SetDegraded marks the connection as usable with a dependency unavailable
// (Degraded). Messages are still written.
func (c *Connection) SetDegraded() error { return c.moveTo(statemachine.Degraded, "degraded") }

// Pause stops the writer: the machine goes to Reconnecting (through
// Degraded, as MachineTable requires), and messages sent meanwhile wait in
// the queue, within its bounds, until Resume. It takes effect before the
// next batch: once Pause has returned, nothing more is handed to the
// transport; a batch the writer had already taken from the queue before
// (at most one) is still written, since a write under way is never cut
// short but by a close.
func (c *Connection) Pause() error {
	if c.State() == statemachine.Reconnecting {
		return nil
	}
	if c.State() != statemachine.Degraded {
		if err := c.moveTo(statemachine.Degraded, "pause"); err != nil {
			return err
		}
	}
	return c.moveTo(statemachine.Reconnecting, "pause")
}

// Resume makes a paused (or degraded, or idle) connection ready again
// (ProcessingReady), and the writer hands the transport what waited.
func (c *Connection) Resume() error { return c.moveTo(statemachine.ProcessingReady, "resume") }

// OnTransition registers fn to observe every later transition of the
// connection's machine, as statemachine.Machine.OnTransition does, and
// returns a function that removes it. fn must not block; a panic in it is
// contained (see Options.OnPanic).
func (c *Connection) OnTransition(fn func(statemachine.Transition[statemachine.ConnState])) (remove func()) {
	return c.mach.OnTransition(fn)
}

// Wait blocks until the connection's state satisfies until, or ctx ends,
// as statemachine.Machine.Wait does.
func (c *Connection) Wait(ctx context.Context, until func(statemachine.ConnState) bool) (statemachine.ConnState, error) {
	return c.mach.Wait(ctx, until)
}

// moveTo is the verbs' transition: refused once the connection is
// closing, and never to Closing or a terminal state, which only the
// package and Close enter.
func (c *Connection) moveTo(to statemachine.ConnState, reason string) error {
	if c.State() >= statemachine.Closing {
		return ErrClosed
	}
	err := c.transition(to, reason)
	if err != nil && c.State() >= statemachine.Closing {
		return ErrClosed
	}
	return err
}

// transition moves c's machine to to. Its observers' panics never reach
// the caller: the machine hands them to observerPanicked.
func (c *Connection) transition(to statemachine.ConnState, reason string) error {
	return c.mach.Transition(to, reason)
}

// observerPanicked is every connection machine's Options.OnPanic: it
// reports an observer's panic, counts it, and, if the connection is not
// closing, closes it with 1011, since an observer that failed may have left
// what it guards half done. It runs on the goroutine that delivered the
// transition, whoever made it.
func (f *Factory) observerPanicked(c *Connection, r any) {
	f.stats.observerPanics.Add(1)
	if on := f.opts.OnPanic; on != nil {
		func() {
			defer func() {
				if r2 := recover(); r2 != nil {
					f.log.Error("wsmanager: OnPanic panicked", "conn", c.id, "panic", r2)
				}
			}()
			on(c, r)
		}()
	} else {
		f.log.Error("wsmanager: a state machine observer panicked; closing the connection",
			"conn", c.id, "panic", r, "stack", string(debug.Stack()))
	}
	if c.State() < statemachine.Closing {
		c.requestClose(causePanic, CodeInternalError, reasonInternal, ErrObserverPanic)
	}
}
