package wsadapt

import (
	"sync"
	"time"
)

// WriteDeadline keeps a socket's write deadline, the one mechanism that
// ends a write in the adapters over a net.Conn (gobwasws, gorillaws,
// nbiows). The socket's deadline is always the earliest of these:
//
//   - the deadline of the write under way (Set);
//   - the deadlines of the writes waiting for the adapter's write lock
//     (Wait), so that a write behind another (a pong, a ping, a close
//     frame, another goroutine's batch) is not held past its own deadline:
//     the one under way is cut short at the waiter's;
//   - a time long past once Abort was called, for good, which interrupts
//     the write under way and fails every later one at once.
//
// A zero deadline means none. WriteDeadline is safe for concurrent use; the
// zero value is not usable: make one with NewWriteDeadline.
type WriteDeadline struct {
	apply func(time.Time) error // the socket's SetWriteDeadline

	mu      sync.Mutex
	aborted bool
	applied time.Time // what the socket has; zero: none
	waiting int       // writes between Wait and Acquired
	waitBy  time.Time // the earliest deadline of those; zero: none
}

// NewWriteDeadline returns a WriteDeadline that moves a socket's write
// deadline with set, its SetWriteDeadline.
func NewWriteDeadline(set func(time.Time) error) *WriteDeadline {
	return &WriteDeadline{apply: set}
}

// LongAgo returns a deadline already passed, which makes a blocked socket
// operation return at once; it reads no clock.
func LongAgo() time.Time { return time.Unix(1, 0) }

// earlier reports whether a is earlier than b, where zero is no deadline.
func earlier(a, b time.Time) bool {
	return !a.IsZero() && (b.IsZero() || a.Before(b))
}

// Wait registers a write that is about to wait for the write lock with
// deadline t: if the write under way, if any, may run past t, it is cut
// short at t. The caller calls Acquired once it holds the lock (or gives
// up). Wait returns ErrAborted once Abort was called, and then registers
// nothing.
func (w *WriteDeadline) Wait(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aborted {
		return ErrAborted
	}
	w.waiting++
	if earlier(t, w.waitBy) {
		w.waitBy = t
	}
	if earlier(t, w.applied) {
		w.applied = t
		_ = w.apply(t)
	}
	return nil
}

// Acquired ends the wait Wait registered. The earliest waiting deadline is
// forgotten only once no write waits, so with several waiting, a write may
// be cut short at the deadline of one that already took its turn: early,
// never late.
func (w *WriteDeadline) Acquired() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting--; w.waiting == 0 {
		w.waitBy = time.Time{}
	}
}

// Set gives the socket the deadline of the write about to start, t, or the
// earliest waiting deadline if that is earlier. Once Abort was called it
// gives it a time long past and returns ErrAborted.
func (w *WriteDeadline) Set(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.aborted {
		_ = w.apply(LongAgo())
		return ErrAborted
	}
	if earlier(w.waitBy, t) {
		t = w.waitBy
	}
	w.applied = t
	return w.apply(t)
}

// Abort moves the socket's write deadline into the past for good: the
// write under way returns at once, and every later Wait and Set fails with
// ErrAborted. It is idempotent.
func (w *WriteDeadline) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = true
	w.applied = LongAgo()
	_ = w.apply(LongAgo())
}

// Aborted reports whether Abort was called.
func (w *WriteDeadline) Aborted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.aborted
}

// ErrAborted is returned by WriteDeadline's Wait and Set once Abort was
// called; adapters wrap it in their own error.
const ErrAborted = sentinel("write aborted")

type sentinel string

func (e sentinel) Error() string { return string(e) }
