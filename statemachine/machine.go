package statemachine

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NoHistory, as Options.HistorySize, keeps no history. With no observers and
// no waiters either, a machine without history never reads the clock, so a
// transition is a lock, a table lookup and an atomic store.
const NoHistory = -1

// DefaultHistorySize is the number of transitions a machine keeps when
// Options.HistorySize is zero.
const DefaultHistorySize = 16

// MaxHistorySize bounds Options.HistorySize.
const MaxHistorySize = 1 << 16

// Options configures a Machine. The zero value is valid and keeps the default
// history.
type Options struct {
	// HistorySize is how many recent transitions History returns, kept in a
	// ring that grows with the first transitions (to 4, then doubling) up
	// to HistorySize and never past it, so that a machine that makes few
	// transitions keeps little. Defaults to
	// DefaultHistorySize (16); NoHistory keeps none. Other negative values
	// and values over MaxHistorySize are ErrInvalidOptions.
	HistorySize int
	// OnPanic, if not nil, receives every panic of an observer, on the
	// goroutine delivering the transition (see OnTransition), instead of
	// that panic being re-raised from Transition: the owner of a machine
	// that many goroutines move contains its observers' panics in one
	// place. It may call Transition on the machine. Defaults to nil: the
	// first panic is re-raised.
	OnPanic func(recovered any)
}

// Transition is one recorded change of state, as History returns it and
// observers receive it. It is a plain value, safe to copy and to read
// concurrently; the zero value is a transition from state 0 to state 0 at no
// recorded time.
type Transition[S Enum] struct {
	From, To S
	// At is when the transition happened. It is zero when the machine read
	// no clock for it (NoHistory, no observers, no waiters).
	At     time.Time
	Reason string
}

// Stats are a machine's counters, as Stats returns them: a snapshot, safe
// to copy and to read concurrently. The zero value is a machine that has not
// moved and read no clock.
type Stats struct {
	// Transitions counts transitions made.
	Transitions uint64
	// Rejected counts transitions the table forbade. A TransitionFrom that
	// failed with ErrStale is not counted: the table was never consulted.
	Rejected uint64
	// Since is when the current state was entered. It is zero when the
	// machine read no clock for that transition (see NoHistory).
	Since time.Time
}

// Machine is a state machine over a Table. Create it with New.
//
// A Machine is safe for concurrent use. State is a single atomic load and
// never blocks. Transitions are serialized: each one is checked against the
// table and applied atomically, so two goroutines racing TransitionFrom on the
// same expected state cannot both win. Observers and Wait predicates are
// described on OnTransition and Wait.
//
// The zero value is not usable: it has no table. Create machines with New or
// NewConn, and share them by pointer; a Machine must not be copied after
// first use.
type Machine[S Enum] struct {
	table *Table[S]
	state atomic.Uint32

	// The fields below are guarded by mu, which serializes transitions.
	// They are ordered to leave no padding: a connection server keeps one
	// machine per connection.
	draining    bool // a goroutine is delivering notifications
	mu          sync.Mutex
	transitions uint64
	rejected    uint64
	since       time.Time
	history     ring[S]
	first       Observer[S] // NewObserved's; nil if none
	// watchers is nil until OnTransition, a Wait that blocks, or a
	// transition that has to wait for a delivery under way needs it.
	watchers *watchers[S]
	onPanic  func(any)
}

// New returns a machine over t in state initial.
//
// It returns an error wrapping ErrInvalidOptions when t is nil, when t does not
// know initial, or when opts is out of range.
func New[S Enum](t *Table[S], initial S, opts Options) (*Machine[S], error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil table", ErrInvalidOptions)
	}
	if !t.Knows(initial) {
		return nil, fmt.Errorf("%w: initial state %v is not in the table", ErrInvalidOptions, initial)
	}
	size := opts.HistorySize
	switch {
	case size == 0:
		size = DefaultHistorySize
	case size == NoHistory:
		size = 0
	case size < 0 || size > MaxHistorySize:
		return nil, fmt.Errorf("%w: HistorySize %d is outside 0..%d (or NoHistory)", ErrInvalidOptions, opts.HistorySize, MaxHistorySize)
	}
	m := &Machine[S]{table: t, onPanic: opts.OnPanic}
	m.state.Store(uint32(initial))
	if size > 0 {
		m.history.size = int32(size)
		m.since = time.Now()
	}
	return m, nil
}

// State returns the current state. It is one atomic load: it never blocks and
// never allocates.
func (m *Machine[S]) State() S { return S(m.state.Load()) }

// Table returns the machine's transition table.
func (m *Machine[S]) Table() *Table[S] { return m.table }

// Transition moves the machine from its current state to to. It returns a
// *TransitionError (wrapping ErrInvalidTransition) when the table forbids it,
// and leaves the state unchanged.
//
// Before it returns, observers have been notified of this transition, unless
// another goroutine is delivering notifications at the time, in which case
// that goroutine delivers this one too, in order (see OnTransition).
func (m *Machine[S]) Transition(to S, reason string) error {
	m.mu.Lock()
	return m.applyLocked(S(m.state.Load()), to, reason)
}

// TransitionFrom moves the machine from from to to only if it is in from: a
// compare-and-transition. When the machine is in another state it returns a
// *StaleError (wrapping ErrStale) and changes nothing; when the table forbids
// from → to it returns a *TransitionError.
func (m *Machine[S]) TransitionFrom(from, to S, reason string) error {
	m.mu.Lock()
	if cur := S(m.state.Load()); cur != from {
		m.mu.Unlock()
		return &StaleError[S]{Expected: from, Actual: cur}
	}
	return m.applyLocked(from, to, reason)
}

// applyLocked is called with m.mu held and returns with it released.
func (m *Machine[S]) applyLocked(from, to S, reason string) error {
	if !m.table.Allows(from, to) {
		m.rejected++
		m.mu.Unlock()
		return &TransitionError[S]{From: from, To: to}
	}
	m.state.Store(uint32(to))
	m.transitions++
	if m.history.size == 0 && !m.observed() && !m.waited() {
		// Nobody will look at the time: keep the clock off this path.
		m.since = time.Time{}
		m.mu.Unlock()
		return nil
	}
	t := Transition[S]{From: from, To: to, At: time.Now(), Reason: reason}
	m.since = t.At
	m.history.push(t)
	if m.waited() {
		m.wakeLocked(to)
	}
	if !m.observed() {
		m.mu.Unlock()
		return nil
	}
	n := notification[S]{t: t, seq: m.transitions}
	if m.draining {
		m.queueLocked(n)
		m.mu.Unlock()
		return nil
	}
	m.draining = true
	if m.queued() {
		// Left by an observer that called runtime.Goexit: delivered first.
		m.queueLocked(n)
		m.drainLocked(notification[S]{}, false)
		return nil
	}
	// Uncontended: n is delivered without passing through the backlog, so
	// a machine whose transitions never wait for a delivery keeps none.
	m.drainLocked(n, true)
	return nil
}

// History returns the most recent transitions, oldest first, as a new slice.
// It returns nil for a machine created with NoHistory.
func (m *Machine[S]) History() []Transition[S] {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.history.list()
}

// Stats returns the machine's counters.
func (m *Machine[S]) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Transitions: m.transitions, Rejected: m.rejected, Since: m.since}
}

// ring keeps the last size transitions; a size of 0 keeps nothing. Its
// buffer grows as transitions arrive, up to size, so a machine that has made
// few transitions holds only those: a connection that has just been set up
// holds its four set-up transitions, not a full ring.
type ring[S Enum] struct {
	buf  []Transition[S]
	size int32 // at most MaxHistorySize
	next int32 // where the next transition goes once buf is full
}

func (r *ring[S]) push(t Transition[S]) {
	switch {
	case r.size == 0:
		return
	case len(r.buf) < int(r.size):
		if len(r.buf) == cap(r.buf) {
			r.buf = slices.Grow(r.buf, min(max(2*len(r.buf), 4), int(r.size))-len(r.buf))
		}
		r.buf = append(r.buf, t)
		return
	}
	r.buf[r.next] = t
	r.next = (r.next + 1) % r.size
}

func (r *ring[S]) list() []Transition[S] {
	if r.size == 0 {
		return nil
	}
	out := make([]Transition[S], 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}
