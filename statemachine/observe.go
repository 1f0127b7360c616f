package statemachine

import (
	"slices"
	"sync"
	"sync/atomic"
)

type observer[S Enum] struct {
	fn      func(Transition[S])
	after   uint64 // transitions that happened before registration are not delivered
	removed atomic.Bool
}

// Observer receives every transition of a machine created with
// NewObserved. Its method is called as OnTransition's fn is.
type Observer[S Enum] interface {
	Transitioned(t Transition[S])
}

// NewObserved returns a machine as New does, with o registered as its first
// observer for its whole life: o sees every transition, as a function that
// OnTransition registered right after New would, before the observers that
// OnTransition registers, and it cannot be removed. Registering it costs no
// allocation, where OnTransition allocates its registration and its remove
// function: a server that keeps a machine per connection observes each this
// way. A nil o registers nothing.
func NewObserved[S Enum](t *Table[S], initial S, opts Options, o Observer[S]) (*Machine[S], error) {
	m, err := New(t, initial, opts)
	if err != nil {
		return nil, err
	}
	m.first = o
	return m, nil
}

// watchers is what a machine keeps for the observers OnTransition
// registers and the goroutines that Wait, apart from the machine, so that a
// machine without them (one created with NewObserved, say) does not carry
// their fields. It is guarded by the machine's mutex.
type watchers[S Enum] struct {
	observers []*observer[S] // copy-on-write: a delivery iterates a snapshot
	waiters   []*waiter[S]
	// queue holds, from head on, the notifications of transitions made
	// while another goroutine was delivering, or by an observer during its
	// delivery, for that delivery to pass on in order.
	queue []notification[S]
	head  int
}

// watchersLocked returns m's watchers, creating them on first use.
func (m *Machine[S]) watchersLocked() *watchers[S] {
	if m.watchers == nil {
		m.watchers = &watchers[S]{}
	}
	return m.watchers
}

// observersLocked returns the observers OnTransition registered.
func (m *Machine[S]) observersLocked() []*observer[S] {
	if m.watchers == nil {
		return nil
	}
	return m.watchers.observers
}

// observed reports whether a transition has anyone to notify. It is called
// with m.mu held, as are waited and queued.
func (m *Machine[S]) observed() bool { return m.first != nil || len(m.observersLocked()) > 0 }

// waited reports whether a goroutine waits in Wait.
func (m *Machine[S]) waited() bool { return m.watchers != nil && len(m.watchers.waiters) > 0 }

// queued reports whether notifications wait to be delivered.
func (m *Machine[S]) queued() bool {
	return m.watchers != nil && m.watchers.head < len(m.watchers.queue)
}

// queueLocked appends n to the notifications waiting to be delivered.
func (m *Machine[S]) queueLocked(n notification[S]) {
	w := m.watchersLocked()
	w.queue = append(w.queue, n)
}

type notification[S Enum] struct {
	t   Transition[S]
	seq uint64 // the machine's transition count after this transition
}

// maxIdleQueue is the queue capacity kept between bursts of notifications;
// a larger buffer, grown by a burst of reentrant transitions, is released.
const maxIdleQueue = 64

// OnTransition registers fn to be called for every transition made after it
// is registered, and returns a function that unregisters it.
//
// Delivery: every transition reaches fn exactly once, in the order the
// transitions happened, after the new state is visible to State, and with no
// lock held. Notifications are queued and delivered by whichever goroutine is
// draining the queue, before that goroutine's Transition returns; under
// contention that may be another goroutine than the one that made the
// transition. fn may call Transition on the same machine: it does not
// deadlock, and the notification of that transition follows the current one.
//
// Removal: remove may be called from anywhere, fn itself included, and more
// than once. After it returns, at most a delivery already under way still
// reaches fn.
//
// Panics: a panic in fn does not stop delivery. The transition stands, every
// other observer still receives it and every queued notification is still
// delivered; then the first panic is re-raised, with its original value, from
// the Transition call that was delivering, unless Options.OnPanic is set:
// then each panic is handed to it, as it happens, and none is re-raised. The
// machine stays usable.
//
// OnTransition(nil) registers nothing and returns a no-op remove: it is the
// one exception to failing fast, since there is no error to return.
func (m *Machine[S]) OnTransition(fn func(Transition[S])) (remove func()) {
	if fn == nil {
		return func() {}
	}
	m.mu.Lock()
	o := &observer[S]{fn: fn, after: m.transitions}
	w := m.watchersLocked()
	obs := make([]*observer[S], len(w.observers), len(w.observers)+1)
	copy(obs, w.observers)
	w.observers = append(obs, o)
	m.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			o.removed.Store(true)
			m.mu.Lock()
			if i := slices.Index(w.observers, o); i >= 0 {
				w.observers = slices.Delete(slices.Clone(w.observers), i, i+1)
			}
			m.mu.Unlock()
		})
	}
}

// drainLocked delivers first, if hasFirst, then queued notifications until
// the queue is empty. It is called with m.mu held and m.draining set,
// releases the lock around every call to an observer, and returns with the
// lock released.
func (m *Machine[S]) drainLocked(first notification[S], hasFirst bool) {
	var (
		firstPanic any
		panicked   bool
		finished   bool
	)
	defer func() {
		if finished {
			return
		}
		// An observer called runtime.Goexit: let the next transition
		// deliver what is still queued.
		m.mu.Lock()
		m.draining = false
		m.mu.Unlock()
	}()
	for hasFirst || m.queued() {
		n := first
		if hasFirst {
			hasFirst = false
		} else {
			w := m.watchers
			n = w.queue[w.head]
			w.queue[w.head] = notification[S]{} // do not retain the reason string
			w.head++
		}
		o1, obs := m.first, m.observersLocked()
		m.mu.Unlock()
		if o1 != nil {
			if p, ok := call(o1.Transitioned, n.t); ok {
				if m.onPanic != nil {
					m.onPanic(p)
				} else if !panicked {
					firstPanic, panicked = p, true
				}
			}
		}
		for _, o := range obs {
			if n.seq <= o.after || o.removed.Load() {
				continue
			}
			if p, ok := call(o.fn, n.t); ok {
				if m.onPanic != nil {
					m.onPanic(p)
				} else if !panicked {
					firstPanic, panicked = p, true
				}
			}
		}
		m.mu.Lock()
	}
	if w := m.watchers; w != nil {
		if cap(w.queue) > maxIdleQueue {
			w.queue = nil
		} else {
			w.queue = w.queue[:0]
		}
		w.head = 0
	}
	m.draining = false
	finished = true
	m.mu.Unlock()
	if panicked {
		panic(firstPanic)
	}
}

// call calls fn(t), recovering its panic.
func call[S Enum](fn func(Transition[S]), t Transition[S]) (p any, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			p, panicked = r, true
		}
	}()
	fn(t)
	return nil, false
}
