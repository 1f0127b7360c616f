package wsmanager

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Manager holds the connections of one (UserID, ThreadID) pair. It can reach
// only its own user's connections: no method takes a user argument that
// could be wrong.
//
// All methods are safe for concurrent use. No lock is held while a Conn, a
// Handler or an observer runs. The zero value is not usable; managers come
// from Factory.Manager. Close is final: afterwards every method returns
// ErrClosed and Factory.Manager creates a new Manager for the same pair.
type Manager struct {
	f  *Factory
	uc UserContext

	// conns is replaced, never modified, so that fan-out reads it without
	// a lock; it is written under mu.
	conns     atomic.Pointer[[]*Connection]
	isClosed  atomic.Bool
	mu        sync.Mutex
	closed    bool
	idleSince time.Time // when the last connection left; zero while any is registered
}

func newManager(f *Factory, uc UserContext, now time.Time) *Manager {
	return &Manager{f: f, uc: uc, idleSince: now}
}

// User returns the UserContext the Manager was created with. Its RequestID
// is that of the call that created the Manager.
func (m *Manager) User() UserContext { return m.uc }

// Send queues msg to every connection of this Manager and returns how many
// accepted it. It never blocks. msg is shared, not copied: the caller must
// not modify it afterwards. It returns ErrClosed after Close, ctx.Err() if
// ctx has ended, and an error wrapping ErrQueueFull when some connections
// were full (the count then covers the others).
func (m *Manager) Send(ctx context.Context, msg []byte) (int, error) {
	if m.isClosed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, full := m.send(msg)
	m.f.stats.queued.Add(uint64(n))
	if full > 0 {
		return n, fmt.Errorf("%w: %d of %d connections", ErrQueueFull, full, n+full)
	}
	return n, nil
}

// send queues msg to every current connection; it returns how many accepted
// it and how many were full. Closing connections count as neither.
func (m *Manager) send(msg []byte) (n, full int) {
	p := m.conns.Load()
	if p == nil {
		return 0, 0
	}
	for _, c := range *p {
		switch c.enqueue(msg) {
		case nil:
			n++
		case ErrQueueFull:
			full++
		}
	}
	return n, full
}

// Connections returns the Manager's current connections, in the order they
// were registered. The slice is a copy.
func (m *Manager) Connections() []*Connection {
	p := m.conns.Load()
	if p == nil {
		return nil
	}
	return slices.Clone(*p)
}

// Close closes every connection of the Manager with code and reason and
// removes the Manager from its Factory. It does not wait for the
// connections to finish closing: each Serve call returns once its
// connection has. It returns ErrClosed if the Manager was already closed.
func (m *Manager) Close(code int, reason string) error {
	conns, ok := m.markClosed()
	if !ok {
		return ErrClosed
	}
	m.f.remove(m)
	for _, c := range conns {
		c.requestClose(causeClosed, code, reason, nil)
	}
	return nil
}

// markClosed closes the Manager to new connections and returns its current
// ones. It reports whether this call closed it. The caller removes it from
// the factory.
func (m *Manager) markClosed() ([]*Connection, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, false
	}
	var conns []*Connection
	if p := m.conns.Load(); p != nil {
		conns = *p
	}
	m.closed = true
	m.isClosed.Store(true)
	return conns, true
}

// closeIfIdle closes the Manager if it has had no connections since at
// least now-d, and reports whether it did. Checking and closing under one
// lock is what keeps a connection from registering with a Manager the
// janitor is removing.
func (m *Manager) closeIfIdle(now time.Time, d time.Duration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.idleSince.IsZero() || now.Sub(m.idleSince) < d {
		return false
	}
	m.closed = true
	m.isClosed.Store(true)
	return true
}

// register adds c, enforcing MaxConnsPerManager under the Manager's lock so
// that concurrent registrations cannot overshoot.
func (m *Manager) register(c *Connection) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	var cur []*Connection
	if p := m.conns.Load(); p != nil {
		cur = *p
	}
	if len(cur) >= m.f.opts.MaxConnsPerManager {
		m.f.stats.connLimitHits.Add(1)
		return ErrConnLimit
	}
	next := make([]*Connection, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, c)
	m.conns.Store(&next)
	m.idleSince = time.Time{}
	m.f.connAdded()
	return nil
}

// unregister removes c and, if it was the last, starts the idle clock.
func (m *Manager) unregister(c *Connection) {
	m.mu.Lock()
	if p := m.conns.Load(); p != nil {
		next := slices.DeleteFunc(slices.Clone(*p), func(x *Connection) bool { return x == c })
		if len(next) == 0 {
			m.conns.Store(nil)
			m.idleSince = time.Now()
		} else {
			m.conns.Store(&next)
		}
	}
	m.mu.Unlock()
	m.f.connRemoved()
}
