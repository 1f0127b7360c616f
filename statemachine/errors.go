package statemachine

import "fmt"

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidTable is returned by NewTable for a table that names a state
	// of 64 or more, or that has no edges at all.
	ErrInvalidTable = sentinel("statemachine: invalid table")
	// ErrInvalidTransition is wrapped by every *TransitionError: the table
	// does not allow the requested transition from the current state.
	ErrInvalidTransition = sentinel("statemachine: invalid transition")
	// ErrStale is returned (wrapped in a *StaleError) by
	// Machine.TransitionFrom when the machine is no longer in the state the
	// caller expected, typically because another goroutine moved it first.
	ErrStale = sentinel("statemachine: stale state")
	// ErrInvalidOptions is returned by New and NewObserved for a nil table,
	// an initial state the table does not know, or options out of range;
	// by NewConn for options out of range; and by Machine.Wait for a nil
	// predicate.
	ErrInvalidOptions = sentinel("statemachine: invalid options")
)

// TransitionError reports a transition that the machine's table forbids.
// errors.Is(err, ErrInvalidTransition) is true for it. It is a plain value,
// safe to read concurrently; the zero value describes a transition from
// state 0 to state 0.
type TransitionError[S Enum] struct {
	From, To S
}

// Error names both states, using the states' String method when they have one.
func (e *TransitionError[S]) Error() string {
	return fmt.Sprintf("statemachine: invalid transition from %v to %v", e.From, e.To)
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError[S]) Unwrap() error { return ErrInvalidTransition }

// StaleError reports a TransitionFrom whose expected state was no longer
// current. errors.Is(err, ErrStale) is true for it. It is a plain value,
// safe to read concurrently; the zero value describes states 0 and 0.
type StaleError[S Enum] struct {
	Expected, Actual S
}

// Error names the expected and the actual state.
func (e *StaleError[S]) Error() string {
	return fmt.Sprintf("statemachine: stale state: expected %v, machine is in %v", e.Expected, e.Actual)
}

// Unwrap returns ErrStale.
func (e *StaleError[S]) Unwrap() error { return ErrStale }
