package wsmanager

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// Factory creates and holds one Manager per (UserID, ThreadID) and delivers
// messages to users across them. It is a registry (the managers, their
// limits and the janitor that removes idle ones) and a delivery chosen once
// from its Options: this node alone, a Broker, or a Log (see SendToUser).
// It owns one goroutine, the janitor, every connection's writer while it
// writes, and, for a pull transport served with Reservation.Go, the
// goroutine reading it (a PushConn is read on the transport's goroutines).
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
	users    map[string]threads // UserID → its Managers
	managers int                // in users
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

	// delivery carries SendToUser and Manager.Send messages; interest,
	// with a Router or LogRouter, keeps the broker's subscription equal to
	// the users held here (nil otherwise).
	delivery delivery
	interest *interestSet
	drain    drainState

	// History: the streams of this node (with a Log, only the state of
	// deliveries and resumes; the messages are the Log's).
	start        time.Time
	streams      sync.Map // UserID → *stream: read on every positioned send, written when a stream is made or released
	historyBytes atomic.Int64
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
		users:       make(map[string]threads),
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
		start:       time.Now(),
	}
	_, _ = rand.Read(f.node[:]) // never fails: crypto/rand crashes the program instead
	if f.delivery, err = newDelivery(f); err != nil {
		return nil, err
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
	m := f.users[uc.UserID].get(uc.ThreadID)
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
	m := f.users[uc.UserID].get(uc.ThreadID)
	if m != nil {
		m.touch()
	}
	return m, nil
}

func (f *Factory) getOrCreateLocked(uc UserContext) (*Manager, error) {
	if f.closed {
		return nil, ErrClosed
	}
	ts := f.users[uc.UserID]
	if m := ts.get(uc.ThreadID); m != nil {
		return m, nil
	}
	if ts.len() >= f.opts.MaxManagersPerUser {
		f.stats.userLimitHits.Add(1)
		return nil, ErrUserLimit
	}
	if f.opts.MaxManagers > 0 && f.managers >= f.opts.MaxManagers {
		f.stats.factoryLimitHits.Add(1)
		return nil, ErrFactoryLimit
	}
	m := newManager(f, uc, time.Now())
	f.users[uc.UserID] = ts.with(m)
	f.managers++
	f.all.Store(nil)
	f.stats.managersCreated.Add(1)
	return m, nil
}

// join registers a new connection for uc (with m, if not nil) through the
// delivery, once the broker, with a Router or LogRouter, delivers the
// user's messages to this node: no message published after the connection
// is registered can miss it.
func (f *Factory) join(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error) {
	if err := uc.Validate(); err != nil {
		return nil, err
	}
	if f.interest != nil {
		if f.isClosed.Load() {
			return nil, ErrClosed
		}
		release, err := f.interest.ensure(ctx, uc.UserID)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return f.delivery.join(ctx, uc, m, after)
}

// register registers a new connection with uc's Manager, creating the
// Manager if needed. The Manager is found (or created) and registered with
// under one hold of the Factory's lock, so neither the janitor nor
// Manager.Close can close it in between.
func (f *Factory) register(ctx context.Context, uc UserContext) (*Connection, error) {
	f.mu.RLock()
	if err := f.refusingLocked(); err != nil {
		f.mu.RUnlock()
		return nil, err
	}
	if m := f.users[uc.UserID].get(uc.ThreadID); m != nil {
		defer f.mu.RUnlock()
		return m.register(ctx)
	}
	f.mu.RUnlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.refusingLocked(); err != nil {
		return nil, err
	}
	m, err := f.getOrCreateLocked(uc)
	if err != nil {
		return nil, err
	}
	return m.register(ctx)
}

// registerWith registers a new connection with m, unless the Factory is
// draining.
func (f *Factory) registerWith(ctx context.Context, m *Manager) (*Connection, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if err := f.refusingLocked(); err != nil {
		return nil, err
	}
	return m.register(ctx)
}

// refusingLocked returns the error that refuses every new connection: the
// Factory is closed or draining. The caller holds f.mu.
func (f *Factory) refusingLocked() error {
	switch {
	case f.closed:
		return ErrClosed
	case f.drain.on:
		f.stats.drainRefused.Add(1)
		return ErrDraining
	}
	return nil
}

// holdsUser reports whether this node holds a Manager of userID.
func (f *Factory) holdsUser(userID string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.users[userID].len() > 0
}

// userGone is called, with no lock held, after the last Manager of userID
// was removed: the broker's subscription to the user ends.
func (f *Factory) userGone(userID string) {
	if f.interest != nil {
		f.interest.settle(userID)
	}
}

// addressed returns how many of this node's connections of userID a
// message sent to the user now is addressed to.
func (f *Factory) addressed(userID string) int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	for m := range f.users[userID].all {
		n += m.addressed()
	}
	return n
}

// removeLocked deletes m, which the caller has just closed, from the maps.
// It reports whether m was its user's last Manager here: the caller then
// calls userGone once it holds no lock.
func (f *Factory) removeLocked(m *Manager) (last bool) {
	ts := f.users[m.uc.UserID]
	if ts.get(m.uc.ThreadID) != m {
		return false
	}
	if ts = ts.without(m.uc.ThreadID); ts.len() == 0 {
		delete(f.users, m.uc.UserID)
		last = true
	} else {
		f.users[m.uc.UserID] = ts
	}
	f.managers--
	f.all.Store(nil)
	f.stats.managersRemoved.Add(1)
	return last
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
	for _, ts := range f.users {
		for m := range ts.all {
			all = append(all, m)
		}
	}
	// Stored under the read lock: changes take the write lock, so no change
	// can slip in between building the list and publishing it.
	f.all.Store(&all)
	return all
}

// SendToUser delivers msg to every connection of userID, across all of the
// user's threads, on this node and, with a Broker or Log, on every other
// node. It never blocks on a connection and never creates a Manager. msg
// is shared, not copied: the caller must not modify it afterwards.
//
// n is, in every mode, how many of this node's connections of userID msg
// is addressed to: those registered when the call was made (closing ones
// excepted). Each of them gets msg unless its queue is full, in which case
// Options.OnFull applies and the drop is counted in Stats.
//
// How msg travels is chosen once, by NewFactory:
//
//   - No Broker: it is queued to this node's connections. An error
//     wrapping ErrQueueFull reports how many of the n were full.
//   - A Broker, without a Log's history: it is queued to this node's
//     connections as above, then published; the other nodes deliver it to
//     their own connections of userID, and this node ignores its echo, so
//     each connection gets it once. A failed publish is returned wrapping
//     ErrBroker and counted in Stats.BrokerErrors; the local connections
//     have been queued to all the same.
//   - A Log, with Options.History: it is stored in the Log, and every
//     node, this one included, delivers it when the Log hands it back,
//     with the position the Log gave it. Full queues are then met after
//     SendToUser has returned: OnFull applies and Stats counts them, but
//     no error reports them. With an AsyncLog, SendToUser returns once the
//     Log has accepted msg, without waiting for it to be stored: a failed
//     append is counted in Stats.BrokerErrors and logged; use
//     SendToUserWait to wait for it. With a plain Log, it waits for the
//     append, and a failure is returned wrapping ErrBroker.
//
// With Options.History and no Log, msg gets the next position in the
// user's stream on this node and is kept there for clients that resume,
// when this node holds a Manager of the user (see HistoryOptions).
//
// It returns ErrClosed after Close, ctx.Err() if ctx has ended (nothing is
// sent), and an error wrapping ErrInvalidUser for a userID that breaks the
// UserContext rule (empty, over 256 bytes, not UTF-8, control characters)
// without sending anything.
func (f *Factory) SendToUser(ctx context.Context, userID string, msg []byte) (int, error) {
	return f.sendToUser(ctx, userID, msg, false)
}

// SendToUserWait is SendToUser that, with an AsyncLog, waits until the Log
// has stored msg, and returns the failure, wrapping ErrBroker, if it was
// not; or ctx.Err() if ctx ends first (msg may be stored all the same).
// In every other mode it is SendToUser.
func (f *Factory) SendToUserWait(ctx context.Context, userID string, msg []byte) (int, error) {
	return f.sendToUser(ctx, userID, msg, true)
}

func (f *Factory) sendToUser(ctx context.Context, userID string, msg []byte, wait bool) (int, error) {
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
	return f.delivery.send(ctx, userID, nil, msg, wait)
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
	s := f.stats.snapshot()
	s.HistoryBytes = uint64(max(f.historyBytes.Load(), 0))
	return s
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
		for _, ts := range f.users {
			for m := range ts.all {
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
		if err := f.delivery.stop(); err != nil {
			f.unsubErr = fmt.Errorf("%w: unsubscribe: %w", ErrBroker, err)
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
	if err := f.waitConns(ctx); err != nil {
		return f.cutShort(ctx)
	}
	return f.unsubErr
}

// cutShort ends the deliveries of a Close whose ctx ended: every write
// under way gives up, and the rest of each queue is discarded.
func (f *Factory) cutShort(ctx context.Context) error {
	f.liveMu.Lock()
	conns := f.closing
	f.liveMu.Unlock()
	for _, c := range conns {
		c.abortWrites()
	}
	return ctx.Err()
}
