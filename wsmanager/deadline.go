package wsmanager

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// writeDeadline is the context of every Conn.Write and BatchConn.WriteBatch
// of one connection: the one mechanism that bounds a write. arm gives each
// write or batch its own deadline, Options.WriteTimeout from the moment it
// is handed to the transport; when it passes, Done is closed and Err is
// context.DeadlineExceeded, so the transport gives up. abort ends the
// current write and every later one at once, for closes that discard what
// is queued. It carries no values: the handler's context is not the
// write's.
//
// One writeDeadline serves every write of its connection with one timer,
// made on the first write. The timer is not reset for each write: it stays
// pending, and when it fires before the current write's deadline it
// re-arms itself for the time left. So a write costs one clock read and two
// atomic stores, and no allocation, no lock and no timer operation.
type writeDeadline struct {
	timeout time.Duration
	base    time.Time // deadlines are stored as offsets from it

	deadline atomic.Int64 // offset of the current write's deadline from base; 0: none under way
	pending  atomic.Bool  // the timer is scheduled or running
	state    atomic.Uint32
	done     atomic.Pointer[chan struct{}]

	mu    sync.Mutex // makes the timer, closes done, guards hooks
	timer *time.Timer
	hooks []*afterHook
}

// afterHook is a function registered with AfterFunc.
type afterHook struct{ f func() }

// The states of a writeDeadline.
const (
	writeOpen uint32 = iota
	writeTimedOut
	writeAborted
)

var _ context.Context = (*writeDeadline)(nil)

func newWriteDeadline(timeout time.Duration) writeDeadline {
	return writeDeadline{timeout: timeout, base: time.Now()}
}

// arm starts the deadline of one write or batch.
func (w *writeDeadline) arm() {
	// Never 0, which means no write is under way: timeout is positive.
	w.deadline.Store(int64(time.Since(w.base) + w.timeout))
	if w.pending.CompareAndSwap(false, true) {
		w.schedule(w.timeout)
	}
}

// disarm ends the deadline of the write that returned.
func (w *writeDeadline) disarm() { w.deadline.Store(0) }

func (w *writeDeadline) schedule(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

// fire runs on the timer's goroutine. With no write under way it lets the
// timer lapse; with a write whose deadline is still ahead (a later write
// than the one it was scheduled for) it re-arms for the time left;
// otherwise the write has run out of time.
func (w *writeDeadline) fire() {
	// Cleared before reading the deadline: an arm that stores its deadline
	// after this load finds the timer lapsed and schedules it itself.
	w.pending.Store(false)
	d := w.deadline.Load()
	if d == 0 || w.state.Load() != writeOpen {
		return
	}
	if left := time.Duration(d) - time.Since(w.base); left > 0 {
		if w.pending.CompareAndSwap(false, true) {
			w.schedule(left)
		}
		return
	}
	w.end(writeTimedOut)
}

// abort ends the write under way, if any, and makes every later write fail
// at once.
func (w *writeDeadline) abort() { w.end(writeAborted) }

func (w *writeDeadline) end(state uint32) {
	w.mu.Lock()
	if !w.state.CompareAndSwap(writeOpen, state) {
		w.mu.Unlock()
		return
	}
	close(*w.doneChan())
	hooks := w.hooks
	w.hooks = nil
	w.mu.Unlock()
	for _, h := range hooks {
		h.f()
	}
}

// AfterFunc runs f once Done is closed, or at once on a goroutine of its
// own if it is already: never on the caller's, because the context package
// calls it holding the lock of the context it derives, which f cancels. It
// is what context.AfterFunc uses for a context that has the method, so a
// transport that watches its write context with context.AfterFunc (to
// interrupt a blocked socket write, say) needs no goroutine per connection:
// since every write of a connection gets the same context, such a
// transport can register once per connection rather than once per write.
// The returned stop reports whether it kept f from running.
func (w *writeDeadline) AfterFunc(f func()) (stop func() bool) {
	h := &afterHook{f: f}
	w.mu.Lock()
	if w.state.Load() != writeOpen {
		w.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	w.hooks = append(w.hooks, h)
	w.mu.Unlock()
	return func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		i := slices.Index(w.hooks, h)
		if i < 0 {
			return false
		}
		w.hooks = slices.Delete(w.hooks, i, i+1)
		return true
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

// timedOut reports whether a write ended because its deadline passed.
func (w *writeDeadline) timedOut() bool { return w.state.Load() == writeTimedOut }

// Deadline returns the deadline of the write under way.
func (w *writeDeadline) Deadline() (time.Time, bool) {
	d := w.deadline.Load()
	if d == 0 {
		return time.Time{}, false
	}
	return w.base.Add(time.Duration(d)), true
}

// Done returns a channel closed when the write under way must give up. It is
// made on first use, so a connection whose transport never asks costs no
// channel.
func (w *writeDeadline) Done() <-chan struct{} { return *w.doneChan() }

func (w *writeDeadline) doneChan() *chan struct{} {
	if p := w.done.Load(); p != nil {
		return p
	}
	ch := make(chan struct{})
	if w.done.CompareAndSwap(nil, &ch) {
		return &ch
	}
	return w.done.Load()
}

// Err returns context.DeadlineExceeded once a write's deadline passed,
// context.Canceled after abort, and nil before.
func (w *writeDeadline) Err() error {
	switch w.state.Load() {
	case writeTimedOut:
		return context.DeadlineExceeded
	case writeAborted:
		return context.Canceled
	}
	return nil
}

// Value returns nil: a write's context carries no values.
func (w *writeDeadline) Value(any) any { return nil }
