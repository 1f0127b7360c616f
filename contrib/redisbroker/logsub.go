package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ssotkit/ssot/contrib/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// SubscribeLogUsers opens this node's subscription to the Log by
// interest, empty: deliver gets every message stored for the users added
// to the returned Interest from the moment Add returns, with its thread
// and position, in position order per user, one at a time from a
// goroutine the Interest owns. Add subscribes to the user's live channel,
// as Broker.SubscribeUsers does, and then reads the head of the user's
// stream: the position after which this node hands on the user's
// messages.
//
// After a lost connection, as Redis confirms each user's subscription
// again (on the master that now serves the user's slot, in a Cluster),
// the Interest reads the user's stream (XRANGE) from the message after the
// last it delivered for that user, and delivers what it finds before the
// user's newer live messages, skipping those it already delivered: while the stream holds them, an added user misses no
// message. A user whose stream no longer holds some of them (trimmed) gets
// what it still holds, and counts one in Stats.Dropped, as do messages dropped past
// Options.PendingMessages and PendingBytes. Messages on the Log's channels
// that the append script did not publish are counted in Stats.Malformed.
//
// It returns ErrInvalidOptions for a nil deliver and ErrClosed once Close
// has begun.
func (l *Log) SubscribeLogUsers(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) (wsmanager.Interest, error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if l.b.closed.Load() {
		return nil, ErrClosed
	}
	ls := &logInterest{l: l, last: map[string]wsmanager.Position{}}
	inbox := brokerkit.NewInbox(l.b.opts.PendingMessages, l.b.opts.PendingBytes, &l.b.counters, logDeliver(deliver))
	ls.inbox = inbox
	ls.in = newInterest(l.b, l.prefix, ls.receive, inbox.Stop)
	ls.in.resume = ls.catchUp
	if !l.b.live.Add(ls.in) {
		ls.in.Stop()
		return nil, ErrClosed
	}
	return ls, nil
}

// logDeliver returns the Inbox's deliver function: it hands a live
// message, already checked, to deliver.
func logDeliver(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) func(string, []byte) {
	return func(userID string, payload []byte) {
		m, _ := parseLive(string(payload))
		deliver(userID, m.thread, m.pos, []byte(m.msg))
	}
}

// logInterest is the Interest of SubscribeLogUsers: an interest in the
// users' live channels, and the position of the last message handed on
// for each user, to catch up from and to skip what was handed on.
type logInterest struct {
	l     *Log
	in    *interest
	inbox *brokerkit.Inbox

	mu   sync.Mutex
	last map[string]wsmanager.Position // by added user; zero until known
}

// Add subscribes to userID's live channel, then reads the head of the
// user's stream. It returns as interest.Add does, and Redis's error if the
// head cannot be read (the user is then not added).
func (ls *logInterest) Add(ctx context.Context, userID string) error {
	ls.mu.Lock()
	ls.last[userID] = wsmanager.Position{}
	ls.mu.Unlock()
	err := ls.in.Add(ctx, userID)
	var head wsmanager.Position
	if err == nil {
		if head, err = ls.l.headOf(ctx, userID); err != nil {
			_ = ls.in.Remove(userID)
			err = fmt.Errorf("redisbroker: add: %w", err)
		}
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if err != nil {
		delete(ls.last, userID)
		return err
	}
	if ls.last[userID] == (wsmanager.Position{}) {
		ls.last[userID] = head
	}
	return nil
}

// Remove unsubscribes from userID's live channel without waiting for
// Redis.
func (ls *logInterest) Remove(userID string) error {
	ls.mu.Lock()
	delete(ls.last, userID)
	ls.mu.Unlock()
	return ls.in.Remove(userID)
}

// Close removes every user and stops deliveries, waiting for one under
// way. It is idempotent.
func (ls *logInterest) Close() error { return ls.in.Close() }

// receive takes a live message: it skips one already handed on for its
// user, and queues the others.
func (ls *logInterest) receive(userID, payload string) {
	m, ok := parseLive(payload)
	if !ok {
		ls.l.b.counters.Malformed.Add(1)
		return
	}
	ls.mu.Lock()
	if last, added := ls.last[userID]; added {
		if last.Epoch == m.pos.Epoch && m.pos.Seq <= last.Seq {
			ls.mu.Unlock()
			return
		}
		ls.last[userID] = m.pos
	}
	ls.mu.Unlock()
	ls.inbox.Put(userID, []byte(payload))
}

// catchUp hands on what userID's stream got after the last message handed
// on for the user: the messages stored while its subscription was down. A
// shard calls it once the user is subscribed again, before the live
// messages received since.
func (ls *logInterest) catchUp(ctx context.Context, userID string) {
	ls.mu.Lock()
	last, added := ls.last[userID]
	ls.mu.Unlock()
	if !added {
		return
	}
	err := ls.catchUpUser(ctx, userID, last)
	if err != nil && !errors.Is(err, context.Canceled) {
		ls.l.b.opts.Logger.Warn("redisbroker: a user's stream could not be read to catch up; its messages stored meanwhile reach the user's clients when they resume", "prefix", ls.l.prefix, "err", err)
	}
}

func (ls *logInterest) catchUpUser(ctx context.Context, userID string, last wsmanager.Position) error {
	l := ls.l
	head, err := l.headOf(ctx, userID)
	if err != nil {
		return err
	}
	from := last.Seq
	if last.Epoch != head.Epoch {
		from = 0 // a new epoch: all of it
	}
	if from >= head.Seq {
		return nil
	}
	entries, err := l.read(ctx, userID, head.Epoch, from, head.Seq, false)
	if errors.Is(err, errUnlinked) {
		// Some were trimmed: hand on what the stream still holds.
		l.b.counters.Dropped.Add(1)
		entries, err = l.read(ctx, userID, head.Epoch, from, head.Seq, true)
		if errors.Is(err, errUnlinked) {
			return nil // trimmed again meanwhile: live delivery goes on
		}
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		ls.receive(userID, formatLive(e.pos, e.thread, e.msg))
	}
	return nil
}

// SubscribeLog delivers every message stored in any user's stream from
// now on, by any node, to deliver, with its thread and position, one at a
// time and in the order received, from a goroutine the subscription owns;
// a Factory uses SubscribeLogUsers instead. It subscribes to the pattern
// of the Log's live channels, so it is not available on a Redis Cluster
// (an error wrapping errors.ErrUnsupported). After a lost connection it
// subscribes again, as Subscribe does, and the messages stored meanwhile
// are not delivered: the clients find them when they resume. unsubscribe
// stops deliveries and waits for one under way to finish.
func (l *Log) SubscribeLog(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) (unsubscribe func() error, err error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if l.b.closed.Load() {
		return nil, ErrClosed
	}
	if l.b.cluster != nil {
		return nil, fmt.Errorf("redisbroker: subscribe: %w: a Redis Cluster has no pattern subscription across its shards; use SubscribeLogUsers", errors.ErrUnsupported)
	}
	inbox := brokerkit.NewInbox(l.b.opts.PendingMessages, l.b.opts.PendingBytes, &l.b.counters, logDeliver(deliver))
	return l.b.subscribePattern(l.prefix, func(userID, payload string) {
		if _, ok := parseLive(payload); !ok {
			l.b.counters.Malformed.Add(1)
			return
		}
		inbox.Put(userID, []byte(payload))
	}, inbox.Stop)
}
