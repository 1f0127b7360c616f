package wsmanager

import (
	"context"
	"fmt"
)

// delivery is how a Factory carries the messages of SendToUser and
// Manager.Send to a user's connections. NewFactory chooses one, once, from
// its Options:
//
//   - localDelivery: no Broker; this node's connections only.
//   - brokerDelivery: a Broker (or Router) without a Log's history: this
//     node's connections directly, the other nodes' through the broker.
//   - logDelivery: a Log with Options.History: every message is stored in
//     the Log first, and every node, this one included, delivers what the
//     Log hands back, with the position the Log gave it.
//
// Each reads straight through from the send to the connections' queues.
type delivery interface {
	// send delivers msg to userID's connections, or to the connections of
	// m's thread alone when m is not nil, on every node the delivery
	// reaches. It returns how many of this node's connections msg is
	// addressed to (see Factory.SendToUser). With wait, a Log's delivery
	// returns once the Log has stored msg, with its failure if it failed.
	send(ctx context.Context, userID string, m *Manager, msg []byte, wait bool) (int, error)
	// join registers a new connection for uc (with m, if not nil) and,
	// with history, fills its queue with what its user's stream holds
	// after after.
	join(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error)
	// disconnect carries a DisconnectUser request to the other nodes.
	disconnect(ctx context.Context, userID string, code int, reason string) error
	// stop ends the delivery's subscription, once, at Factory.Close.
	stop() error
}

// newDelivery chooses f's delivery and starts its subscription.
func newDelivery(f *Factory) (delivery, error) {
	b := f.opts.Broker
	if l, ok := b.(Log); ok && f.historyOn() {
		return newLogDelivery(f, l)
	}
	if b != nil {
		return newBrokerDelivery(f, b)
	}
	return localDelivery{f}, nil
}

// subscribeError is the error of a subscription NewFactory could not start.
func subscribeError(err error) error {
	return fmt.Errorf("%w: subscribe: %w", ErrBroker, err)
}
