package wsmanager

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// Factory creates and holds one Manager per (UserID, ThreadID) and delivers
// messages to users across them. It owns one goroutine, the janitor that
// removes idle managers, and every connection's writer.
//
// All methods are safe for concurrent use. No lock is held while a
// transport, a Handler, a Broadcast filter or an observer runs. The zero
// value is not usable; create a Factory with NewFactory and stop it with
// Close, after which every method returns ErrClosed (Broadcast returns 0).
type Factory struct {
	opts  Options
	log   *slog.Logger
	node  [nodeIDLen]byte
	table *statemachine.Table[statemachine.ConnState] // shared: tables are immutable
	stats counters

	// mu guards users and closed. A Manager is in users exactly while it
	// is open: it is closed and removed under mu's write lock, and found
	// and registered with under its read lock.
	mu       sync.RWMutex
	closed   bool
	users    map[string]map[string]*Manager // UserID → ThreadID → Manager
	managers int                            // in users
	isClosed atomic.Bool
	// all is every Manager, rebuilt lazily for Broadcast after a change
	// (nil means stale), so fan-out needs neither a lock nor an allocation.
	all atomic.Pointer[[]*Manager]

	liveMu  sync.Mutex
	live    int           // registered connections
	drained chan struct{} // closed when live reaches 0 after Close
	// closing holds the connections Close asked to close, so that a Close
	// whose ctx ends can cut their deliveries short.
	closing []*Connection

	stopJanitor chan struct{}
	janitorDone chan struct{}
	closeOnce   sync.Once
	unsubErr    error
	unsubscribe func() error

	// History: the streams of this node, or the Log that holds them.
	start   time.Time
	hlog    Log
	streams sync.Map // UserID → *stream: read on every positioned send, written when a stream is made or released
}

// NewFactory returns a Factory configured by opts and starts its janitor.
// It returns an error wrapping ErrInvalidOptions for invalid options, and an
// error wrapping ErrBroker if Options.Broker refuses the subscription.
func NewFactory(opts Options) (*Factory, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &Factory{
		opts:        opts,
		log:         opts.Logger,
		table:       MachineTable(),
		users:       make(map[string]map[string]*Manager),
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
		start:       time.Now(),
	}
	_, _ = rand.Read(f.node[:]) // never fails: crypto/rand crashes the program instead
	if l, ok := opts.Broker.(Log); ok && f.historyOn() {
		f.hlog = l
		unsub, err := l.SubscribeLog(f.deliverLog)
		if err != nil {
			return nil, fmt.Errorf("%w: subscribe: %w", ErrBroker, err)
		}
		if unsub == nil {
			return nil, fmt.Errorf("%w: SubscribeLog returned a nil unsubscribe function", ErrInvalidOptions)
		}
		f.unsubscribe = unsub
	} else if opts.Broker != nil {
		unsub, err := opts.Broker.Subscribe(f.deliverRemote)
		if err != nil {
			return nil, fmt.Errorf("%w: subscribe: %w", ErrBroker, err)
		}
		if unsub == nil {
			return nil, fmt.Errorf("%w: Subscribe returned a nil unsubscribe function", ErrInvalidOptions)
		}
		f.unsubscribe = unsub
	}
	go f.janitor()
	return f, nil
}

// Manager returns the Manager of uc's (UserID, ThreadID), creating it if
// needed; concurrent calls for the same pair get the same Manager. It is
// for accepting connections: to reach a thread from elsewhere in the
// service, use Lookup, SendToUser or Broadcast, which never create one, so
// that sends to made-up ThreadIDs cannot use up a user's
// MaxManagersPerUser.
//
// It returns an error wrapping ErrInvalidUser if uc is invalid,
// ErrUserLimit if creating it would exceed Options.MaxManagersPerUser,
// ErrFactoryLimit if it would exceed Options.MaxManagers (both checked and
// applied under one lock, so concurrent creations never overshoot), and
// ErrClosed after Close. It never returns a closed Manager while the
// Factory is open, and handing a Manager out restarts its idle clock: one
// that has no connection is removed by the janitor no sooner than
// Options.IdleTimeout later.
func (f *Factory) Manager(uc UserContext) (*Manager, error) {
	if err := uc.Validate(); err != nil {
		return nil, err
	}
	if m, err := f.find(uc); m != nil || err != nil {
		return m, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.getOrCreateLocked(uc)
}

// Lookup returns the open Manager of uc's (UserID, ThreadID), if there is
// one. It never creates a Manager; after Close it reports false. Like
// Manager, it restarts the idle clock of the Manager it returns.
func (f *Factory) Lookup(uc UserContext) (*Manager, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m := f.users[uc.UserID][uc.ThreadID]
	if m == nil {
		return nil, false
	}
	m.touch()
	return m, true
}

// find looks uc's Manager up under the read lock. It returns nil and no
// error when the caller must create it under the write lock.
func (f *Factory) find(uc UserContext) (*Manager, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return nil, ErrClosed
	}
	m := f.users[uc.UserID][uc.ThreadID]
	if m != nil {
		m.touch()
	}
	return m, nil
}

func (f *Factory) getOrCreateLocked(uc UserContext) (*Manager, error) {
	if f.closed {
		return nil, ErrClosed
	}
	threads := f.users[uc.UserID]
	if m := threads[uc.ThreadID]; m != nil {
		return m, nil
	}
	if len(threads) >= f.opts.MaxManagersPerUser {
		f.stats.userLimitHits.Add(1)
		return nil, ErrUserLimit
	}
	if f.opts.MaxManagers > 0 && f.managers >= f.opts.MaxManagers {
		f.stats.factoryLimitHits.Add(1)
		return nil, ErrFactoryLimit
	}
	if threads == nil {
		threads = make(map[string]*Manager, 1)
		f.users[uc.UserID] = threads
	}
	m := newManager(f, uc, time.Now())
	threads[uc.ThreadID] = m
	f.managers++
	f.all.Store(nil)
	f.stats.managersCreated.Add(1)
	return m, nil
}

// register registers a new connection with uc's Manager, creating the
// Manager if needed. The Manager is found (or created) and registered with
// under one hold of the Factory's lock, so neither the janitor nor
// Manager.Close can close it in between.
func (f *Factory) register(ctx context.Context, uc UserContext) (*Connection, error) {
	if err := uc.Validate(); err != nil {
		return nil, err
	}
	f.mu.RLock()
	if f.closed {
		f.mu.RUnlock()
		return nil, ErrClosed
	}
	if m := f.users[uc.UserID][uc.ThreadID]; m != nil {
		defer f.mu.RUnlock()
		return m.register(ctx)
	}
	f.mu.RUnlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.getOrCreateLocked(uc)
	if err != nil {
		return nil, err
	}
	return m.register(ctx)
}

// removeLocked deletes m, which the caller has just closed, from the maps.
func (f *Factory) removeLocked(m *Manager) {
	threads := f.users[m.uc.UserID]
	if threads[m.uc.ThreadID] != m {
		return
	}
	delete(threads, m.uc.ThreadID)
	if len(threads) == 0 {
		delete(f.users, m.uc.UserID)
	}
	f.managers--
	f.all.Store(nil)
	f.stats.managersRemoved.Add(1)
}

// allManagers returns every Manager, from the cached list when nothing
// changed since it was built.
func (f *Factory) allManagers() []*Manager {
	if p := f.all.Load(); p != nil {
		return *p
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p := f.all.Load(); p != nil {
		return *p
	}
	all := make([]*Manager, 0, f.managers)
	for _, threads := range f.users {
		for _, m := range threads {
			all = append(all, m)
		}
	}
	// Stored under the read lock: changes take the write lock, so no change
	// can slip in between building the list and publishing it.
	f.all.Store(&all)
	return all
}

// SendToUser queues msg to every connection of userID, across all of the
// user's threads, and returns how many connections on this node accepted
// it. It never blocks on a connection and never creates a Manager. msg is
// shared, not copied: the caller must not modify it afterwards. With
// Options.History, msg gets the next position in the user's stream and is
// kept, even when the user has no connection, so a client that resumes
// gets it.
//
// With a Broker that is a Log (and history on), msg is appended to the Log
// and every node, this one included, delivers it when the Log hands it
// back: n is then the number of this node's connections of userID when
// the call was made, and an Append failure is returned wrapping ErrBroker.
//
// With Options.Broker, msg is also published for the other nodes, which
// deliver it to their own connections of userID; this node ignores its own
// message when the broker echoes it back, so each connection gets it once.
// If publishing fails, the local connections have still been queued to; the
// error, wrapping ErrBroker, is returned and counted in Stats.BrokerErrors.
//
// It returns ErrClosed after Close, ctx.Err() if ctx has ended (nothing is
// sent), an error wrapping ErrInvalidUser for a userID that breaks the
// UserContext rule (empty, over 256 bytes, not UTF-8, control characters)
// without sending anything, and an error wrapping ErrQueueFull when some
// local connections were full.
func (f *Factory) SendToUser(ctx context.Context, userID string, msg []byte) (int, error) {
	if f.isClosed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// The rule every UserContext follows: no connection can have another
	// ID, and a broker must never be asked to carry an unbounded one.
	if err := (UserContext{UserID: userID}).Validate(); err != nil {
		return 0, err
	}
	if f.hlog != nil {
		return f.appendLog(ctx, userID, "", true, msg)
	}
	n, full := f.queueLocal(userID, nil, msg)
	var errs []error
	if full > 0 {
		errs = append(errs, fmt.Errorf("%w: %d of %d connections", ErrQueueFull, full, n+full))
	}
	if f.opts.Broker != nil {
		if err := f.opts.Broker.Publish(ctx, userID, f.seal(userID, msg)); err != nil {
			f.stats.brokerErrors.Add(1)
			f.log.Warn("wsmanager: broker publish failed", "err", err)
			errs = append(errs, fmt.Errorf("%w: publish: %w", ErrBroker, err))
		} else {
			f.stats.brokerPublished.Add(1)
		}
	}
	return n, errors.Join(errs...)
}

// sendLocal queues msg to this node's connections of userID, appending to
// slow those the caller must close with closeSlow once it holds no lock.
func (f *Factory) sendLocal(userID string, msg []byte, slow []*Connection) (n, full int, _ []*Connection) {
	// Enqueueing never blocks and calls no user code (slow consumers are
	// closed by the caller), so it may run under the read lock; that keeps
	// the user's managers from being copied.
	f.mu.RLock()
	for _, m := range f.users[userID] {
		var mn, mf int
		mn, mf, slow = m.send(msg, slow)
		n += mn
		full += mf
	}
	f.mu.RUnlock()
	f.stats.queued.Add(uint64(n + full))
	return n, full, slow
}

// Broadcast queues msg to every connection on this node whose Manager's
// UserContext passes filter (nil passes all), and returns how many accepted
// it. It never blocks on a connection; full connections are handled by
// Options.OnFull and not counted. msg is shared, not copied.
//
// With Options.History, msg is framed once with the zero Position (see
// HistoryOptions.Frame): it has no position, and is never replayed.
//
// Broadcast is node-local, even with a Broker: filter is a Go function and
// cannot travel to other nodes. Send to each node's factory, or use
// SendToUser, to reach other nodes. filter is called once per Manager, with
// no lock held, and may call the Factory. Broadcast returns 0 after Close
// or if ctx has ended.
func (f *Factory) Broadcast(ctx context.Context, msg []byte, filter func(UserContext) bool) int {
	if f.isClosed.Load() || ctx.Err() != nil {
		return 0
	}
	msg = f.unpositioned(msg)
	n, full := 0, 0
	var slow []*Connection
	for _, m := range f.allManagers() {
		if filter != nil && !filter(m.uc) {
			continue
		}
		var mn, mf int
		mn, mf, slow = m.send(msg, slow)
		n += mn
		full += mf
	}
	f.stats.queued.Add(uint64(n + full))
	closeSlow(slow)
	return n
}

// Stats returns a snapshot of the factory's counters. It keeps working
// after Close.
func (f *Factory) Stats() Stats {
	return f.stats.snapshot()
}

// connAdded counts a registered connection, unless the Factory has
// Options.MaxConns of them; it reports whether it did.
func (f *Factory) connAdded() bool {
	f.liveMu.Lock()
	defer f.liveMu.Unlock()
	if f.opts.MaxConns > 0 && f.live >= f.opts.MaxConns {
		f.stats.factoryLimitHits.Add(1)
		return false
	}
	f.live++
	f.stats.connsCreated.Add(1)
	return true
}

// connRemoved counts a connection gone, and wakes Close at the last one.
func (f *Factory) connRemoved() {
	f.stats.connsRemoved.Add(1)
	f.liveMu.Lock()
	f.live--
	if f.live == 0 && f.drained != nil {
		close(f.drained)
		f.drained = nil
	}
	f.liveMu.Unlock()
}

// Close stops the factory: new calls fail with ErrClosed, the broker
// subscription ends, every Manager is removed and every connection is
// closed with 1001 (going away), after what was queued to it is written to
// peers still reading (if its machine is operational, as Connection.Close
// says), each write bounded by Options.WriteTimeout. It then waits until
// every connection's Serve has finished with it (reservations included, and
// Options.OnDisconnect returned) and the janitor has stopped. If ctx ends
// first, the deliveries still under way are cut short, what they had left
// is discarded, and Close returns ctx.Err() without waiting further;
// calling Close again waits again. It returns the broker's unsubscribe
// error, wrapping ErrBroker, if there was one.
//
// Connections whose handler is still running are waited for: handlers
// receive a context that is cancelled once their connection is closed.
func (f *Factory) Close(ctx context.Context) error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.isClosed.Store(true)
		var conns []*Connection
		for _, threads := range f.users {
			for _, m := range threads {
				if cs, ok := m.markClosed(); ok {
					conns = append(conns, cs...)
					f.stats.managersRemoved.Add(1)
				}
			}
		}
		f.users, f.managers = nil, 0
		f.all.Store(nil)
		f.mu.Unlock()

		f.liveMu.Lock()
		f.closing = conns
		f.liveMu.Unlock()
		close(f.stopJanitor)
		if f.unsubscribe != nil {
			if err := f.unsubscribe(); err != nil {
				f.unsubErr = fmt.Errorf("%w: unsubscribe: %w", ErrBroker, err)
			}
		}
		for _, c := range conns {
			c.requestClose(causeClosed, CodeGoingAway, reasonGoingAway, nil)
		}
	})

	select {
	case <-f.janitorDone:
	case <-ctx.Done():
		return f.cutShort(ctx)
	}
	f.liveMu.Lock()
	if f.live == 0 {
		f.liveMu.Unlock()
		return f.unsubErr
	}
	if f.drained == nil {
		f.drained = make(chan struct{})
	}
	drained := f.drained
	f.liveMu.Unlock()
	select {
	case <-drained:
		return f.unsubErr
	case <-ctx.Done():
		return f.cutShort(ctx)
	}
}

// cutShort ends the deliveries of a Close whose ctx ended: every write
// under way gives up, and the rest of each queue is discarded.
func (f *Factory) cutShort(ctx context.Context) error {
	f.liveMu.Lock()
	conns := f.closing
	f.liveMu.Unlock()
	for _, c := range conns {
		c.write.abort()
	}
	return ctx.Err()
}
