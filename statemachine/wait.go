package statemachine

import (
	"context"
	"fmt"
)

type waiter[S Enum] struct {
	until func(S) bool
	done  chan waitResult[S] // buffered: the waking side never blocks
}

type waitResult[S Enum] struct {
	state    S
	panicVal any
	panicked bool
}

// Wait returns the first state the machine is in or enters that satisfies
// until: immediately if the current state does. It sees every state entered
// after it starts, even one left at once, so a waiter for an operational state
// on a connection that fails instead waits on; bound it with the context or
// with a predicate that also accepts terminal states.
//
// When ctx ends first, Wait returns the current state and ctx.Err(). Wait
// starts no goroutine and leaves nothing registered when it returns.
//
// until runs on the goroutine that makes each transition, while the machine
// is locked: it must be a fast, pure function of the state (such as
// ConnState.IsOperational) and must not call the machine's methods other
// than State. A panic in until is re-raised in the goroutine that called
// Wait; it never disturbs the transition. A nil until is ErrInvalidOptions.
func (m *Machine[S]) Wait(ctx context.Context, until func(S) bool) (S, error) {
	if until == nil {
		return m.State(), fmt.Errorf("%w: nil Wait predicate", ErrInvalidOptions)
	}
	// Fast path, without the lock: the current state already satisfies until.
	if s := m.State(); until(s) {
		return s, nil
	}
	m.mu.Lock()
	cur := m.State()
	if ok, p, panicked := evaluate(until, cur); ok || panicked {
		m.mu.Unlock()
		if panicked {
			panic(p)
		}
		return cur, nil
	}
	if err := ctx.Err(); err != nil {
		m.mu.Unlock()
		return cur, err
	}
	w := &waiter[S]{until: until, done: make(chan waitResult[S], 1)}
	ws := m.watchersLocked()
	ws.waiters = append(ws.waiters, w)
	m.mu.Unlock()

	var r waitResult[S]
	select {
	case r = <-w.done:
	case <-ctx.Done():
		m.mu.Lock()
		i := indexOf(m.watchers.waiters, w)
		if i >= 0 {
			m.removeWaiterLocked(i)
		}
		m.mu.Unlock()
		if i >= 0 {
			return m.State(), ctx.Err()
		}
		r = <-w.done // woken while the context ended: the state counts
	}
	if r.panicked {
		panic(r.panicVal)
	}
	return r.state, nil
}

// wakeLocked completes every waiter whose predicate accepts s.
func (m *Machine[S]) wakeLocked(s S) {
	ws := m.watchers
	for i := 0; i < len(ws.waiters); {
		w := ws.waiters[i]
		ok, p, panicked := evaluate(w.until, s)
		if !ok && !panicked {
			i++
			continue
		}
		w.done <- waitResult[S]{state: s, panicVal: p, panicked: panicked}
		m.removeWaiterLocked(i)
	}
}

func (m *Machine[S]) removeWaiterLocked(i int) {
	ws := m.watchers
	last := len(ws.waiters) - 1
	ws.waiters[i] = ws.waiters[last]
	ws.waiters[last] = nil
	ws.waiters = ws.waiters[:last]
}

func indexOf[S Enum](ws []*waiter[S], w *waiter[S]) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}

// evaluate runs until(s), recovering a panic so that it cannot leave the
// machine locked.
func evaluate[S Enum](until func(S) bool, s S) (ok bool, panicVal any, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			ok, panicVal, panicked = false, p, true
		}
	}()
	return until(s), nil, false
}
