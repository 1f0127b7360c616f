package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
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
// After a lost connection, once Redis confirms the users' subscriptions
// again (on the master that now serves each user's slot, in a Cluster),
// the Interest reads each user's stream (XRANGE, many users to a
// pipeline) from the message after the last it delivered for that user,
// and delivers what it finds before the user's newer live messages,
// skipping those it already delivered: while the stream holds them, an added user misses no
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

// catchUpBatch is how many users one pipeline of a catch-up reads.
const catchUpBatch = 256

// catchUp hands on what the streams of users got after the last message
// handed on for each: the messages stored while their subscriptions were
// down. A shard calls it once they are subscribed again, before the live
// messages received since. It reads the heads of many users in one
// pipeline, then their entries in another. It returns the error of a read
// that failed: the shard then subscribes again and calls it anew.
func (ls *logInterest) catchUp(ctx context.Context, users []string) error {
	for len(users) > 0 {
		n := min(len(users), catchUpBatch)
		if err := ls.catchUpBatch(ctx, users[:n]); err != nil {
			return fmt.Errorf("redisbroker: catch up: %w", err)
		}
		users = users[n:]
	}
	return nil
}

// pendingCatchUp is a user to catch up: its stream holds entries after
// from, up to to.
type pendingCatchUp struct {
	userID          string
	epoch, from, to uint64
	page            *redis.XMessageSliceCmd
}

func (ls *logInterest) catchUpBatch(ctx context.Context, users []string) error {
	l := ls.l
	last := make([]wsmanager.Position, len(users))
	ls.mu.Lock()
	for i, u := range users {
		last[i] = ls.last[u] // the zero Position for a user removed since
	}
	ls.mu.Unlock()

	// The heads, read as the scripts do, without making an epoch: a
	// stream with none, or gone, has nothing to catch up on.
	pipe := l.b.client.Pipeline()
	heads := make([]*redis.SliceCmd, len(users))
	exists := make([]*redis.IntCmd, len(users))
	for i, u := range users {
		_, keys := l.keys(u)
		heads[i] = pipe.HMGet(ctx, keys[1], "e", "l")
		exists[i] = pipe.Exists(ctx, keys[0])
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return classify(err)
	}
	var todo []pendingCatchUp
	pipe = l.b.client.Pipeline()
	for i, u := range users {
		vals := heads[i].Val()
		eText, _ := vals[0].(string)
		lastID, _ := vals[1].(string)
		epoch, err1 := strconv.ParseUint(eText, 10, 64)
		head, err2 := seqOf(lastID)
		if last[i] == (wsmanager.Position{}) || err1 != nil || err2 != nil || exists[i].Val() == 0 {
			continue
		}
		from := last[i].Seq
		if last[i].Epoch != epoch {
			from = 0 // a new epoch: all of it
		}
		if from >= head {
			continue
		}
		_, keys := l.keys(u)
		todo = append(todo, pendingCatchUp{u, epoch, from, head, pipe.XRangeN(ctx, keys[0], "("+idOf(from), idOf(head), replayBatch)})
	}
	if len(todo) == 0 {
		return nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return classify(err)
	}
	for _, c := range todo {
		entries, err := l.readOn(ctx, c.userID, c.epoch, c.from, c.to, false, c.page.Val())
		if errors.Is(err, errUnlinked) {
			// Some were trimmed: hand on what the stream still holds.
			l.b.counters.Dropped.Add(1)
			entries, err = l.read(ctx, c.userID, c.epoch, c.from, c.to, true)
			if errors.Is(err, errUnlinked) {
				continue // trimmed again meanwhile: live delivery goes on
			}
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			ls.receive(c.userID, formatLive(e.pos, e.thread, e.msg))
		}
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
