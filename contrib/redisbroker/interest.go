package redisbroker

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Router = (*Broker)(nil)

// SubscribeUsers opens this node's subscription by interest, empty:
// deliver gets the messages published for the users added to the returned
// Interest, and no others, one at a time and in the order received, from a
// goroutine the Interest owns. Each user has a channel of its own (see
// Options.Prefix); Interest.Add subscribes to it (SUBSCRIBE, or SSUBSCRIBE
// on the master of the channel's slot in a Redis Cluster) and returns once
// Redis has confirmed the subscription. After a lost connection every
// added user is subscribed again every Options.ReconnectWait until Redis
// answers, counted in Stats.Reconnects; what was published meanwhile does
// not reach this node. Messages wait for deliver within
// Options.PendingMessages and PendingBytes; past them they are dropped and
// counted in Stats.Dropped.
//
// It returns ErrInvalidOptions for a nil deliver and ErrClosed once Close
// has begun.
func (b *Broker) SubscribeUsers(deliver func(userID string, msg []byte)) (wsmanager.Interest, error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if b.closed.Load() {
		return nil, ErrClosed
	}
	inbox := brokerkit.NewInbox(b.opts.PendingMessages, b.opts.PendingBytes, &b.counters, deliver)
	in := newInterest(b, b.prefix, func(userID, payload string) { inbox.Put(userID, []byte(payload)) }, inbox.Stop)
	if !b.live.Add(in) {
		in.Stop()
		return nil, ErrClosed
	}
	return in, nil
}

// interest is a set of users whose channels a node subscribes to, over
// one pub/sub connection per Redis server concerned (a shard): the one
// server of a standalone Redis, or each master of a Cluster holding an
// added user's slot. It implements wsmanager.Interest.
type interest struct {
	b      *Broker
	prefix string // of the channels: "<prefix>.<base64url(userID)>"
	// onMessage takes a message received on a user's channel; shards call
	// it concurrently, one message at a time each.
	onMessage func(userID, payload string)
	// resume, if set, is called by a shard for users whose earlier
	// subscription was lost once Redis has confirmed their subscriptions
	// again, before the shard hands on any message after the
	// confirmations: the Log catches those users up. If it fails, the
	// shard ends its connection and subscribes again, the users still
	// counted as lost.
	resume func(ctx context.Context, users []string) error
	// stopDeliveries ends the deliveries and waits for one under way.
	stopDeliveries func()

	mu      sync.Mutex
	users   map[string]*want  // by channel
	shards  map[string]*shard // by the address of their server ("" for a standalone Redis)
	stopped bool
	wg      sync.WaitGroup // the shards' goroutines
	once    sync.Once
}

// want is one added user.
type want struct {
	userID string
	shard  *shard
	// confirmed is closed when Redis first confirms the subscription, or
	// refuses it, for Add; nil from then on.
	confirmed chan struct{}
	refused   error // Redis's refusal, set before confirmed is closed
	lost      bool  // the subscription, once confirmed, was lost, and is not yet restored
}

func newInterest(b *Broker, prefix string, onMessage func(userID, payload string), stopDeliveries func()) *interest {
	return &interest{
		b:              b,
		prefix:         prefix,
		onMessage:      onMessage,
		stopDeliveries: stopDeliveries,
		users:          map[string]*want{},
		shards:         map[string]*shard{},
	}
}

// Add subscribes to userID's channel and returns once Redis has confirmed
// the subscription, or ctx's error if ctx ends first (the user is then not
// added). It returns ErrInvalidUser for an invalid user ID, ErrClosed after
// Close, Redis's error if it refuses the subscription (an ACL without the
// channel), and, for a Redis Cluster, the error of finding the master of
// the channel's slot. While Redis cannot be reached, Add waits for it as
// long as ctx allows. Add is not to be called twice for one user without
// a Remove between.
func (in *interest) Add(ctx context.Context, userID string) error {
	if !brokerkit.ValidUser(userID) {
		return ErrInvalidUser
	}
	ch := brokerkit.Topic(in.prefix, userID)
	addr, node, err := in.route(ctx, ch)
	if err != nil {
		return fmt.Errorf("redisbroker: add: %w", classify(err))
	}
	w := &want{userID: userID, confirmed: make(chan struct{})}
	in.mu.Lock()
	if in.stopped {
		in.mu.Unlock()
		return ErrClosed
	}
	in.users[ch] = w
	confirmed := w.confirmed
	ps := in.place(ch, w, addr, node)
	in.mu.Unlock()
	if ps != nil {
		// An error here ends the connection, and the shard subscribes
		// again to all of its channels.
		_ = in.subscribe(ctx, ps, ch)
	}
	select {
	case <-confirmed:
		if w.refused != nil {
			_ = in.Remove(userID)
			return fmt.Errorf("redisbroker: add: %w", w.refused)
		}
		return nil
	case <-ctx.Done():
		_ = in.Remove(userID)
		return ctx.Err()
	}
}

// Remove unsubscribes from userID's channel without waiting for Redis.
func (in *interest) Remove(userID string) error {
	ch := brokerkit.Topic(in.prefix, userID)
	in.mu.Lock()
	w := in.users[ch]
	if w == nil || w.shard == nil {
		in.mu.Unlock()
		return nil
	}
	delete(in.users, ch)
	sh := w.shard
	delete(sh.chans, ch)
	ps := sh.ps
	if ps != nil {
		sh.unsubs[ch]++
	}
	in.mu.Unlock()
	if ps != nil {
		ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
		defer cancel()
		if in.b.cluster != nil {
			_ = ps.SUnsubscribe(ctx, ch)
		} else {
			_ = ps.Unsubscribe(ctx, ch)
		}
	}
	return nil
}

// Close removes every user and stops deliveries, waiting for one under
// way. It is idempotent.
func (in *interest) Close() error {
	in.b.live.Remove(in)
	in.Stop()
	return nil
}

// Stop ends every shard's connection and goroutine, and the deliveries,
// and waits for them.
func (in *interest) Stop() {
	in.once.Do(func() {
		in.mu.Lock()
		in.stopped = true
		shards := in.shards
		in.shards = map[string]*shard{}
		in.users = map[string]*want{}
		in.mu.Unlock()
		for _, sh := range shards {
			sh.stop()
		}
		in.wg.Wait()
		if in.stopDeliveries != nil {
			in.stopDeliveries()
		}
	})
}

// route returns the server that serves channel: the standalone Redis, or
// the master of the channel's slot in a Cluster, as the cluster client
// knows it.
func (in *interest) route(ctx context.Context, channel string) (string, *redis.Client, error) {
	if in.b.cluster == nil {
		return "", in.b.single, nil
	}
	node, err := in.b.cluster.MasterForKey(ctx, channel)
	if err != nil {
		return "", nil, err
	}
	return node.Options().Addr, node, nil
}

// place puts w, channel's, in the shard of addr, starting the shard if
// there is none. It returns the shard's connection if it has one, with
// the subscription counted as awaited: the caller then subscribes on it.
// Without a connection the shard subscribes when it connects. in.mu is
// held.
func (in *interest) place(channel string, w *want, addr string, node *redis.Client) *redis.PubSub {
	sh := in.shards[addr]
	if sh == nil {
		sh = newShard(in, addr, node)
		in.shards[addr] = sh
		in.wg.Add(1)
		go sh.run()
	}
	w.shard = sh
	sh.chans[channel] = w
	if sh.ps == nil {
		return nil
	}
	sh.awaited[channel]++
	return sh.ps
}

// subscribe sends the subscription of channels on ps.
func (in *interest) subscribe(ctx context.Context, ps *redis.PubSub, channels ...string) error {
	if in.b.cluster != nil {
		return ps.SSubscribe(ctx, channels...)
	}
	return ps.Subscribe(ctx, channels...)
}
