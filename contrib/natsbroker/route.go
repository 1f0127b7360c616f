package natsbroker

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// hopMessages is how many received messages an Interest's subscriptions
// hold between the NATS client's reading goroutine and the Interest's
// own, which takes each at once; past it, the client drops them (a
// Broker's Interest counts those in Stats.Dropped when the user's
// subscription ends; a Log's reads them from the stream).
const hopMessages = 1 << 16

var _ wsmanager.Router = (*Broker)(nil)

// SubscribeUsers returns an Interest, empty, through which this node
// receives the messages published for the users it adds, and no others:
// Interest.Add subscribes to the user's own subject,
// "<prefix>.<base64url(userID)>", and returns once the server has the
// subscription. deliver is called as Subscribe calls it: one message at a
// time, in the order received, from a goroutine the Interest owns, through
// one queue bounded by Options.PendingMessages and Options.PendingBytes
// (past either, messages are dropped and counted in Stats.Dropped). The
// NATS client restores the subscriptions after a reconnect. Interest.Close
// stops deliveries and waits for one under way to finish.
func (b *Broker) SubscribeUsers(deliver func(userID string, msg []byte)) (wsmanager.Interest, error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if b.closed.Load() {
		return nil, ErrClosed
	}
	in := &brokerInterest{
		prefix: b.prefix,
		subs:   newUserSubs(b.nc, func(u string) string { return subject(b.prefix, u) }, hopMessages, &b.counters.Dropped),
		inbox:  brokerkit.NewInbox(b.pendMsgs, b.pendBytes, &b.counters, deliver),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		live:   &b.live,
	}
	if !b.live.Add(in) {
		in.inbox.Stop()
		return nil, ErrClosed
	}
	go in.run(&b.counters)
	return in, nil
}

// brokerInterest is the Interest of SubscribeUsers.
type brokerInterest struct {
	prefix string
	subs   *userSubs
	inbox  *brokerkit.Inbox
	live   *brokerkit.Live // the Broker's, which stops the Interest on Close

	stop chan struct{}
	done chan struct{} // closed when run returns
	once sync.Once
}

// Add subscribes to userID's subject and returns once the NATS server has
// the subscription. It returns ErrInvalidUser for an invalid user ID,
// ErrDisconnected while the connection is down, ctx's error if ctx ends
// first, and ErrClosed after Close.
func (in *brokerInterest) Add(ctx context.Context, userID string) error {
	return in.subs.add(ctx, userID)
}

// Remove unsubscribes from userID's subject without waiting for the server.
func (in *brokerInterest) Remove(userID string) error { return in.subs.remove(userID) }

// Close unsubscribes from every user, stops deliveries and waits for one
// under way. It is idempotent.
func (in *brokerInterest) Close() error {
	in.live.Remove(in)
	in.Stop()
	return nil
}

// Stop is Close, for the Broker's Close.
func (in *brokerInterest) Stop() {
	in.once.Do(func() {
		in.subs.close()
		close(in.stop)
	})
	<-in.done
	in.inbox.Stop()
}

// run moves what the subscriptions receive into the Inbox, which never
// waits, until Stop.
func (in *brokerInterest) run(counters *brokerkit.Counters) {
	defer close(in.done)
	for {
		var m *nats.Msg
		select {
		case <-in.stop:
			return
		case m = <-in.subs.ch:
		}
		userID, ok := brokerkit.UserFromTopic(in.prefix, m.Subject)
		if !ok {
			counters.Malformed.Add(1)
			continue
		}
		in.inbox.Put(userID, m.Data)
	}
}
