package wsmanager

import (
	"context"
	"sync"
	"time"
)

// writeDeadline is the context of every Conn.Write and BatchConn.WriteBatch
// of one connection: the one mechanism that bounds a write. arm gives each
// write or batch its own deadline, Options.WriteTimeout from the moment it
// is handed to the transport; when it passes, Done is closed and Err is
// context.DeadlineExceeded, so the transport gives up. abort ends the
// current write and every later one at once, for closes that discard what
// is queued.
//
// One writeDeadline serves every write of its connection, with one timer
// created on the first write and reset for each later one: arming costs a
// clock read and a timer reset, and no allocation. It carries no values:
// the handler's context is not the write's.
type writeDeadline struct {
	timeout time.Duration

	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time // zero while no write is under way
	done     chan struct{}
	err      error // set once: the deadline passed, or abort
}

var _ context.Context = (*writeDeadline)(nil)

// arm starts the deadline of one write or batch.
func (w *writeDeadline) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	w.deadline = time.Now().Add(w.timeout)
	if w.timer == nil {
		w.timer = time.AfterFunc(w.timeout, w.fire)
		return
	}
	w.timer.Reset(w.timeout)
}

// disarm ends the deadline of the write that returned.
func (w *writeDeadline) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = time.Time{}
	if w.timer != nil {
		w.timer.Stop()
	}
}

// fire runs on the timer's goroutine. A timer that fired for an earlier
// write, or for one that has just returned, finds the deadline unset or
// still ahead and does nothing.
func (w *writeDeadline) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || w.deadline.IsZero() || time.Now().Before(w.deadline) {
		return
	}
	w.endLocked(context.DeadlineExceeded)
}

// abort ends the write under way, if any, and makes every later write fail
// at once.
func (w *writeDeadline) abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.endLocked(context.Canceled)
	}
}

// stop releases the timer once the connection's writer is done with it.
func (w *writeDeadline) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *writeDeadline) endLocked(err error) {
	w.err = err
	if w.done == nil {
		w.done = make(chan struct{})
	}
	close(w.done)
}

// timedOut reports whether a write ended because its deadline passed.
func (w *writeDeadline) timedOut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err == context.DeadlineExceeded
}

// Deadline returns the deadline of the write under way.
func (w *writeDeadline) Deadline() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deadline, !w.deadline.IsZero()
}

// Done returns a channel closed when the write under way must give up. It is
// made on first use, so a connection whose transport never asks costs no
// channel.
func (w *writeDeadline) Done() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		w.done = make(chan struct{})
	}
	return w.done
}

// Err returns context.DeadlineExceeded once a write's deadline passed,
// context.Canceled after abort, and nil before.
func (w *writeDeadline) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Value returns nil: a write's context carries no values.
func (w *writeDeadline) Value(any) any { return nil }
