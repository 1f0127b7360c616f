package redisbroker

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

// errUnsubscribed ends a shard's connection on which Redis ended a
// subscription that the node did not end: in a Cluster, the channel's slot
// moved to another master. The shard subscribes again, each channel where
// it now belongs.
const errUnsubscribed = sentinel("redisbroker: Redis ended a subscription")

// subscribeChunk is how many channels one SUBSCRIBE asks for when a shard
// subscribes again after a lost connection.
const subscribeChunk = 512

// shard is the pub/sub connection of an interest to one Redis server, and
// the goroutine that reads it, subscribes again after a lost connection
// and, in a Cluster, moves its users to the master that now serves their
// slot. The fields after node are guarded by the interest's mutex.
type shard struct {
	in     *interest
	addr   string
	node   *redis.Client
	ctx    context.Context // ended by stop
	cancel context.CancelFunc

	chans map[string]*want // the users it holds, by channel
	ps    *redis.PubSub    // the current connection; nil between connections
	// awaited and unsubs count, by channel, the subscriptions and
	// unsubscriptions sent on ps that Redis has not yet confirmed: a
	// confirmation counts for an Add only once every subscription sent
	// before it is answered, and an unsubscription nobody sent is Redis's.
	awaited map[string]int
	unsubs  map[string]int
}

func newShard(in *interest, addr string, node *redis.Client) *shard {
	ctx, cancel := context.WithCancel(context.Background())
	return &shard{in: in, addr: addr, node: node, ctx: ctx, cancel: cancel, chans: map[string]*want{}}
}

// stop ends the connection, which ends the read under way; the
// interest's WaitGroup waits for the goroutine.
func (sh *shard) stop() {
	sh.cancel()
	sh.in.mu.Lock()
	ps := sh.ps
	sh.in.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
}

// run keeps the shard's subscriptions up until stop, or until it holds no
// user.
func (sh *shard) run() {
	defer sh.in.wg.Done()
	b := sh.in.b
	log := b.opts.Logger
	lost := false // the connection was lost and is not yet restored
	for {
		var ps *redis.PubSub
		if b.cluster != nil {
			ps = sh.node.SSubscribe(sh.ctx)
		} else {
			ps = sh.node.Subscribe(sh.ctx)
		}
		chans, ok := sh.attach(ps)
		if !ok {
			_ = ps.Close()
			return
		}
		err := sh.serve(ps, chans, func() {
			b.counters.Connected.Store(true)
			if lost {
				lost = false
				log.Info("redisbroker: subscriptions restored", "prefix", sh.in.prefix, "server", sh.addr)
			}
		})
		sh.detach(err)
		_ = ps.Close()
		if sh.ctx.Err() != nil {
			return
		}
		b.counters.Connected.Store(false)
		if !lost {
			lost = true
			log.Warn("redisbroker: a subscription connection ended; subscribing again", "prefix", sh.in.prefix, "server", sh.addr, "err", classify(err), "every", b.opts.ReconnectWait)
		}
		if b.cluster != nil {
			b.cluster.ReloadState(sh.ctx)
		}
		t := time.NewTimer(b.opts.ReconnectWait)
		select {
		case <-sh.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if b.cluster != nil {
			sh.reroute()
		}
	}
}

// attach makes ps the shard's connection and returns the channels to
// subscribe to on it, each counted as awaited. It reports false, when the
// shard is stopped or holds no user: the shard is then done, and gone
// from the interest.
func (sh *shard) attach(ps *redis.PubSub) ([]string, bool) {
	in := sh.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if sh.ctx.Err() != nil || in.stopped {
		return nil, false
	}
	if len(sh.chans) == 0 {
		if in.shards[sh.addr] == sh {
			delete(in.shards, sh.addr)
		}
		sh.cancel()
		return nil, false
	}
	sh.ps = ps
	sh.awaited = make(map[string]int, len(sh.chans))
	sh.unsubs = map[string]int{}
	chans := make([]string, 0, len(sh.chans))
	for ch := range sh.chans {
		chans = append(chans, ch)
		sh.awaited[ch] = 1
	}
	return chans, true
}

// detach forgets the connection that ended with err. If Redis refused a
// command (an ACL without the channel, say), the Adds still waiting fail
// with its error; after an error of the connection, or one that a new
// attempt on the right master mends, they go on waiting.
func (sh *shard) detach(err error) {
	in := sh.in
	in.mu.Lock()
	defer in.mu.Unlock()
	sh.ps, sh.awaited, sh.unsubs = nil, nil, nil
	rerr, ok := errors.AsType[redis.Error](err)
	for ch, w := range sh.chans {
		if w.confirmed == nil {
			w.lost = true
			continue
		}
		if ok && !transient(rerr) {
			w.refused = err
			close(w.confirmed)
			w.confirmed = nil
			delete(sh.chans, ch)
			delete(in.users, ch)
		}
	}
}

// transient reports whether Redis's error is one of a Cluster whose
// layout is changing, or of a server starting: another try mends it.
func transient(err redis.Error) bool {
	for _, p := range []string{"MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN", "LOADING", "READONLY", "MASTERDOWN"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

// reroute moves each user of the shard to the shard of the master that
// serves its channel's slot now, as far as the cluster client knows.
func (sh *shard) reroute() {
	in := sh.in
	in.mu.Lock()
	chans := make([]string, 0, len(sh.chans))
	for ch := range sh.chans {
		chans = append(chans, ch)
	}
	in.mu.Unlock()
	for _, ch := range chans {
		addr, node, err := in.route(sh.ctx, ch)
		if err != nil || addr == sh.addr {
			continue
		}
		in.mu.Lock()
		if w := sh.chans[ch]; w != nil && !in.stopped {
			delete(sh.chans, ch)
			if ps := in.place(ch, w, addr, node); ps != nil {
				in.mu.Unlock()
				_ = in.subscribe(sh.ctx, ps, ch)
				continue
			}
		}
		in.mu.Unlock()
	}
}

// resumeWait is how long a shard waits for more confirmations of lost
// subscriptions before it resumes the users confirmed so far, so that
// their streams are read in pipelines rather than one user at a time.
const resumeWait = time.Millisecond

// serve subscribes to chans on ps and reads ps until it fails, calling
// up when Redis confirms a subscription. When Redis confirms the
// subscriptions of users whose earlier subscription was lost, the shard
// counts the restored connection in Stats.Reconnects (once) and, with a
// resume function, calls it for those users before it hands on any
// message after their confirmations (the messages behind a confirmation
// on the connection come after it), and returns its error.
func (sh *shard) serve(ps *redis.PubSub, chans []string, up func()) error {
	in := sh.in
	ctx := sh.ctx
	if in.b.cluster != nil {
		// One channel a command: SSUBSCRIBE takes the channels of one slot.
		for _, ch := range chans {
			if err := ps.SSubscribe(ctx, ch); err != nil {
				return err
			}
		}
	} else {
		for i := 0; i < len(chans); i += subscribeChunk {
			if err := ps.Subscribe(ctx, chans[i:min(i+subscribeChunk, len(chans))]...); err != nil {
				return err
			}
		}
	}
	restored := false
	var resuming []string // users confirmed again, to resume
	resume := func() error {
		if len(resuming) == 0 {
			return nil
		}
		err := in.resume(ctx, resuming)
		resuming = nil
		return err
	}
	pinged := false
	for {
		wait := idlePing
		if len(resuming) > 0 {
			wait = resumeWait
		}
		m, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			ne, ok := errors.AsType[net.Error](err)
			switch {
			case ok && ne.Timeout() && len(resuming) > 0:
				if err := resume(); err != nil {
					return err
				}
				continue
			case ok && ne.Timeout() && !pinged:
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := m.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				userID, lost := sh.confirmed(m.Channel)
				up()
				if !lost {
					continue
				}
				if !restored {
					restored = true
					in.b.counters.Reconnects.Add(1)
				}
				if in.resume != nil {
					resuming = append(resuming, userID)
				}
			case "unsubscribe", "sunsubscribe":
				if !sh.unsubscribed(m.Channel) {
					return errUnsubscribed
				}
			}
		case *redis.Message:
			if err := resume(); err != nil {
				return err
			}
			userID, ok := brokerkit.UserFromTopic(in.prefix, m.Channel)
			if !ok {
				// Counted, not logged: anyone who can publish under the
				// prefix could otherwise flood the log.
				in.b.counters.Malformed.Add(1)
				continue
			}
			in.onMessage(userID, m.Payload)
		}
	}
}

// confirmed counts Redis's confirmation of a subscription to channel; once
// every subscription sent for it is confirmed, an Add waiting for it
// returns. It returns the channel's user, and whether the user's earlier
// subscription was lost and this confirmation restores it.
func (sh *shard) confirmed(channel string) (userID string, lost bool) {
	sh.in.mu.Lock()
	defer sh.in.mu.Unlock()
	if sh.awaited == nil {
		return "", false
	}
	if sh.awaited[channel] > 1 {
		sh.awaited[channel]--
		return "", false
	}
	delete(sh.awaited, channel)
	w := sh.chans[channel]
	if w == nil {
		return "", false
	}
	if w.confirmed != nil {
		close(w.confirmed)
		w.confirmed = nil
	}
	lost, w.lost = w.lost, false
	return w.userID, lost
}

// unsubscribed counts Redis's confirmation of an unsubscription from
// channel; it reports false for one the node did not send, unless the
// node no longer wants the channel.
func (sh *shard) unsubscribed(channel string) bool {
	sh.in.mu.Lock()
	defer sh.in.mu.Unlock()
	if n := sh.unsubs[channel]; n > 0 {
		if n == 1 {
			delete(sh.unsubs, channel)
		} else {
			sh.unsubs[channel] = n - 1
		}
		return true
	}
	return sh.chans[channel] == nil
}
