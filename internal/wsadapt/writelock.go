package wsadapt

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// WriteLock is an adapter's write lock: it lets one frame sequence at a
// time onto the socket, bounds each with the socket's write deadline,
// kept by a WriteDeadline, and remembers the write that failed, after
// which the stream may hold part of a frame and nothing more is written.
// A write that waits for the lock cuts the write under way short at its
// own deadline (WriteDeadline.Wait).
//
// The errors it returns are the adapter's: its name prefixes them and,
// once Abort was called, every one is the adapter's ErrAborted, whatever
// the socket said. WriteLock is safe for concurrent use; the zero value is
// not usable: make one with NewWriteLock.
type WriteLock struct {
	deadline *WriteDeadline
	name     string
	aborted  error

	mu     sync.Mutex
	broken error // held with mu: why a write failed
}

// NewWriteLock returns a WriteLock over deadline for the adapter called
// name, whose ErrAborted is aborted.
func NewWriteLock(deadline *WriteDeadline, name string, aborted error) *WriteLock {
	return &WriteLock{deadline: deadline, name: name, aborted: aborted}
}

// Lock takes the lock for a write due by deadline, registered as waiting
// meanwhile so that the write under way ends by then. It fails with the
// adapter's ErrAborted, without the lock, once Abort was called.
func (l *WriteLock) Lock(deadline time.Time) error {
	if err := l.deadline.Wait(deadline); err != nil {
		return l.Err(err)
	}
	l.mu.Lock()
	l.deadline.Acquired()
	return nil
}

// TryLock takes the lock if no write holds it, and reports whether it did.
func (l *WriteLock) TryLock() bool { return l.mu.TryLock() }

// Unlock releases the lock.
func (l *WriteLock) Unlock() { l.mu.Unlock() }

// SetDeadline gives the socket the write deadline of the write about to
// start, as WriteDeadline.Set does; the caller holds the lock. It fails
// with the adapter's ErrAborted once Abort was called.
func (l *WriteLock) SetDeadline(t time.Time) error {
	if err := l.deadline.Set(t); err != nil {
		return l.Err(err)
	}
	return nil
}

// Broken returns nil until a write failed, and then the error of every
// later write: it wraps the error Fail recorded, so a write behind one
// that failed with os.ErrDeadlineExceeded reports it too. The caller holds
// the lock.
func (l *WriteLock) Broken() error {
	switch {
	case l.broken == nil:
		return nil
	case l.deadline.Aborted():
		return l.aborted
	}
	return fmt.Errorf("%s: an earlier write failed: %w", l.name, l.broken)
}

// Fail records that a write failed with err, so that Broken fails every
// later one, and returns the error the write returns, as Err does. The
// caller holds the lock.
func (l *WriteLock) Fail(err error) error {
	l.broken = err
	return l.Err(err)
}

// Err is the error a write returns for err: the adapter's ErrAborted once
// Abort was called, whatever the socket said.
func (l *WriteLock) Err(err error) error {
	if errors.Is(err, ErrAborted) || l.deadline.Aborted() {
		return l.aborted
	}
	return fmt.Errorf("%s: write: %w", l.name, err)
}

// Abort moves the socket's write deadline into the past for good, as
// WriteDeadline.Abort does: the write under way returns at once, and every
// later one fails with the adapter's ErrAborted.
func (l *WriteLock) Abort() { l.deadline.Abort() }

// Aborted reports whether Abort was called.
func (l *WriteLock) Aborted() bool { return l.deadline.Aborted() }
