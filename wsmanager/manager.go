package wsmanager

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// Manager holds the connections of one (UserID, ThreadID) pair. It can reach
// only its own user's connections: no method takes a user argument that
// could be wrong.
//
// All methods are safe for concurrent use. No lock is held while a
// transport, a Handler or an observer runs. The zero value is not usable;
// managers come from Factory.Manager. Close is final: afterwards every
// method returns ErrClosed and Factory.Manager creates a new Manager for the
// same pair. A Manager is in its Factory exactly while it is open, so
// Factory.Manager and Factory.Lookup never return a closed one while the
// Factory is open.
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

// Send delivers msg to every connection of this Manager, that is of its
// (UserID, ThreadID) on this node, and returns how many msg is addressed
// to, with the meaning Factory.SendToUser gives it. It never blocks on a
// connection. msg is shared, not copied: the caller must not modify it
// afterwards. It returns ErrClosed after Close, ctx.Err() if ctx has
// ended, and, as SendToUser does in the same mode, an error wrapping
// ErrQueueFull when some connections were full or ErrBroker when a Log
// append failed. With Options.History, msg gets the next position in its
// user's stream, for this thread's connections only, and is kept for
// clients of this thread that resume; through a Log, it is stored and
// delivered when the Log hands it back. A Manager is one node's: Send
// does not travel through a Broker.
func (m *Manager) Send(ctx context.Context, msg []byte) (int, error) {
	if m.isClosed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return m.f.delivery.send(ctx, m.uc.UserID, m, msg, false)
}

// addressed returns how many connections of this Manager a message sent to
// it now is addressed to: those not closing.
func (m *Manager) addressed() int {
	p := m.conns.Load()
	if p == nil {
		return 0
	}
	n := 0
	for _, c := range *p {
		if c.mach.State() < statemachine.Closing {
			n++
		}
	}
	return n
}

// send queues msg to every current connection; it returns how many accepted
// it and how many were full, and appends to slow those that CloseSlow must
// close: the caller closes them with closeSlow once it holds no lock.
// Closing connections count as neither. The caller counts n+full in
// Stats.MessagesQueued.
func (m *Manager) send(msg []byte, slow []*Connection) (n, full int, _ []*Connection) {
	p := m.conns.Load()
	if p == nil {
		return 0, 0, slow
	}
	for _, c := range *p {
		slow = c.offer(msg, &n, &full, slow)
	}
	return n, full, slow
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

// Close removes the Manager from its Factory and closes every connection
// with code and reason, after what was queued to it, as Connection.Close
// does. It does not wait for the connections to finish closing: each Serve
// call returns once its connection has. It returns ErrClosed if the Manager
// was already closed.
func (m *Manager) Close(code int, reason string) error {
	f := m.f
	f.mu.Lock()
	conns, ok := m.markClosed()
	last := ok && f.removeLocked(m)
	f.mu.Unlock()
	if !ok {
		return ErrClosed
	}
	if last {
		f.userGone(m.uc.UserID)
	}
	for _, c := range conns {
		c.requestClose(causeClosed, code, reason, nil)
	}
	return nil
}

// markClosed closes the Manager to new connections and returns its current
// ones. It reports whether this call closed it. The caller holds the
// Factory's lock and removes the Manager from it under the same lock.
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
// least now-d, and reports whether it did. The caller holds the Factory's
// lock and removes the Manager under it: checking and closing under the
// Manager's lock keeps a connection from registering with a Manager being
// removed, and doing both under the Factory's keeps anyone from being handed
// it.
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

// touch restarts the idle clock of a Manager without connections: it was
// just handed out, and its caller may be about to use it. The caller holds
// the Factory's read lock, so the janitor is not sweeping meanwhile.
func (m *Manager) touch() {
	m.mu.Lock()
	if !m.idleSince.IsZero() {
		m.idleSince = time.Now()
	}
	m.mu.Unlock()
}

// register creates a connection and adds it, enforcing MaxConnsPerManager
// under the Manager's lock, so that concurrent registrations cannot
// overshoot, and the factory's MaxConns.
func (m *Manager) register(ctx context.Context) (*Connection, error) {
	f := m.f
	c, err := newConnection(ctx, m)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	var cur []*Connection
	if p := m.conns.Load(); p != nil {
		cur = *p
	}
	if len(cur) >= f.opts.MaxConnsPerManager {
		f.stats.connLimitHits.Add(1)
		return nil, ErrConnLimit
	}
	if !f.connAdded() {
		return nil, ErrFactoryLimit
	}
	next := make([]*Connection, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, c)
	m.conns.Store(&next)
	m.idleSince = time.Time{}
	return c, nil
}

// unregister removes c and, if it was the last, starts the idle clock. The
// caller then calls the Factory's connRemoved, once it is done with c.
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
}
