package wsmanager

import (
	"context"
	"fmt"
	"time"
)

// localDelivery delivers to this node's connections alone: the delivery
// of a Factory without a Broker, and the local half of brokerDelivery.
// With history, each user's stream is kept on this node.
type localDelivery struct{ f *Factory }

func (d localDelivery) send(_ context.Context, userID string, m *Manager, msg []byte, _ bool) (int, error) {
	n, full := d.f.queueLocal(userID, m, msg)
	return n + full, fullError(n, full)
}

func (d localDelivery) join(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error) {
	return d.f.joinLocal(ctx, uc, m, after)
}

func (localDelivery) disconnect(context.Context, string, int, string) error { return nil }
func (localDelivery) stop() error                                           { return nil }

// fullError is the error of a send that full connections refused.
func fullError(n, full int) error {
	if full == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d connections", ErrQueueFull, full, n+full)
}

// registerFor registers a new connection for uc, with m if not nil.
func (f *Factory) registerFor(ctx context.Context, uc UserContext, m *Manager) (*Connection, error) {
	if m != nil {
		return f.registerWith(ctx, m)
	}
	return f.register(ctx, uc)
}

// joinLocal registers a new connection for uc (with m, if not nil) and,
// with history, fills its queue from the user's stream on this node, under
// the stream's lock, so that a message is either replayed or delivered
// live, never both and never neither.
func (f *Factory) joinLocal(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error) {
	if !f.historyOn() {
		return f.registerFor(ctx, uc, m)
	}
	if err := uc.Validate(); err != nil {
		return nil, err
	}
	st := f.lockStream(uc.UserID, true)
	defer st.mu.Unlock()
	c, err := f.registerFor(ctx, uc, m)
	if err != nil {
		return nil, err
	}
	if h := &f.opts.History; h.MaxAge > 0 {
		// Nothing may have been appended since the oldest entries aged
		// out: drop them now, so they are never replayed.
		st.expire(h, int64(time.Since(f.start)))
	}
	replayed := 0
	ok := !after.IsZero() && st.replay(after, uc.ThreadID, func(e historyEntry) {
		c.pushReplay(e.framed)
		replayed++
	})
	f.resumed(c, after, ok, Position{Epoch: st.epoch, Seq: st.head}, replayed)
	return c, nil
}

// queueLocal queues msg to this node's connections of userID: those of
// m's thread, or all of them when m is nil. With history, msg first gets
// the next position in the user's stream and is framed and kept, all under
// the stream's lock; a user who has no Manager here and no stream kept
// from one gets nothing, and nothing is kept. It returns how many
// connections accepted msg and how many were full.
func (f *Factory) queueLocal(userID string, m *Manager, msg []byte) (n, full int) {
	var slow []*Connection
	// Last, once no lock is held: their observers may send to this user.
	defer func() { closeSlow(slow) }()
	if h := &f.opts.History; f.historyOn() {
		st := f.lockStream(userID, f.holdsUser(userID))
		if st == nil {
			return 0, 0
		}
		defer st.mu.Unlock()
		st.head++
		msg = f.frame(Position{Epoch: st.epoch, Seq: st.head}, msg)
		var at int64
		if h.MaxAge > 0 {
			at = int64(time.Since(f.start))
		}
		e := historyEntry{all: m == nil, framed: msg, at: at}
		if m != nil {
			e.thread = m.uc.ThreadID
		}
		st.add(e, h)
	}
	if m != nil {
		n, full, slow = m.send(msg, nil)
		f.stats.queued.Add(uint64(n + full))
		return n, full
	}
	n, full, slow = f.sendLocal(userID, msg, nil)
	return n, full
}

// sendLocal queues msg to this node's connections of userID, appending to
// slow those the caller must close with closeSlow once it holds no lock.
func (f *Factory) sendLocal(userID string, msg []byte, slow []*Connection) (n, full int, _ []*Connection) {
	// Enqueueing never blocks and calls no user code (slow consumers are
	// closed by the caller), so it may run under the read lock; that keeps
	// the user's managers from being copied.
	f.mu.RLock()
	for m := range f.users[userID].all {
		var mn, mf int
		mn, mf, slow = m.send(msg, slow)
		n += mn
		full += mf
	}
	f.mu.RUnlock()
	f.stats.queued.Add(uint64(n + full))
	return n, full, slow
}
