package wsmanager

import (
	"context"
	"errors"
	"fmt"
)

// Broker carries Factory.SendToUser messages, and Factory.DisconnectUser
// requests, between the nodes of a cluster; adapters for real brokers live
// in their own modules. With a Broker, SendToUser queues a message to the
// local connections of the user and publishes it once; every other node's
// Factory that receives it queues it to its own connections of that user.
// A node recognises and ignores its own messages, so a broker that echoes
// publishers' messages back to them is fine. A Broker that is also a
// Router is subscribed to the users a node holds instead of to all of
// them (see Router).
//
// The cross-node guarantee is the Broker's: over NATS core, for example, a
// message published while a node is disconnected never reaches that node's
// connections (at-most-once). Order is kept for messages from one node if
// the Broker keeps a publisher's order. Who may publish is the Broker's
// too, unless Options.BrokerKey is set: then a Factory delivers only
// envelopes signed with that key for that user.
//
// Implementations must be safe for concurrent use.
type Broker interface {
	// Publish sends msg, an opaque envelope built by the Factory, to every
	// node subscribed, for userID. The Factory does not modify msg after
	// the call, and the Broker may keep it.
	Publish(ctx context.Context, userID string, msg []byte) error
	// Subscribe starts delivering every published message to deliver,
	// which may be called concurrently and never blocks for long (it only
	// queues). deliver takes ownership of msg: the Broker must not modify
	// it afterwards. Subscribe is called once, by NewFactory, unless the
	// Broker is a Router; unsubscribe is called once, by Factory.Close,
	// and must stop deliveries before it returns.
	Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error)
}

// brokerDelivery delivers to this node's connections directly and to the
// other nodes' through a Broker: the publishing node queues to its own
// connections and ignores its echo, the others receive the envelope
// through their subscription. With a Router, a node subscribes only to the
// users it holds (see Router); otherwise to every user.
type brokerDelivery struct {
	localDelivery
	b     Broker
	unsub func() error
}

func newBrokerDelivery(f *Factory, b Broker) (*brokerDelivery, error) {
	d := &brokerDelivery{localDelivery: localDelivery{f}, b: b}
	if r, ok := b.(Router); ok {
		in, err := r.SubscribeUsers(d.receive)
		if err != nil {
			return nil, subscribeError(err)
		}
		if in == nil {
			return nil, fmt.Errorf("%w: SubscribeUsers returned a nil Interest", ErrInvalidOptions)
		}
		f.interest = newInterestSet(f, in)
		d.unsub = f.interest.close
		return d, nil
	}
	unsub, err := b.Subscribe(d.receive)
	if err != nil {
		return nil, subscribeError(err)
	}
	if unsub == nil {
		return nil, fmt.Errorf("%w: Subscribe returned a nil unsubscribe function", ErrInvalidOptions)
	}
	d.unsub = unsub
	return d, nil
}

func (d *brokerDelivery) stop() error { return d.unsub() }

// send queues msg to this node's connections, then publishes it for the
// others. If publishing fails, the local connections have still been
// queued to; the error wraps ErrBroker.
func (d *brokerDelivery) send(ctx context.Context, userID string, m *Manager, msg []byte, _ bool) (int, error) {
	f := d.f
	n, full := f.queueLocal(userID, m, msg)
	err := fullError(n, full)
	if m == nil {
		// A thread's messages (Manager.Send) stay on this node: a
		// Manager is one node's.
		if perr := d.publish(ctx, userID, f.seal(userID, msg)); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	return n + full, err
}

// publish hands an envelope to the Broker, counting the outcome.
func (d *brokerDelivery) publish(ctx context.Context, userID string, env []byte) error {
	f := d.f
	if err := d.b.Publish(ctx, userID, env); err != nil {
		f.stats.brokerErrors.Add(1)
		f.log.Warn("wsmanager: broker publish failed", "err", err)
		return fmt.Errorf("%w: publish: %w", ErrBroker, err)
	}
	f.stats.brokerPublished.Add(1)
	return nil
}

func (d *brokerDelivery) disconnect(ctx context.Context, userID string, code int, reason string) error {
	return d.publish(ctx, userID, d.f.sealControl(userID, code, reason))
}

// receive is the broker subscription: it queues another node's message to
// this node's connections of userID.
func (d *brokerDelivery) receive(userID string, env []byte) {
	f := d.f
	if f.isClosed.Load() {
		return
	}
	if isControl(env) {
		f.receiveControl(userID, env)
		return
	}
	node, msg, ok, rejected := f.open(userID, env)
	switch {
	case rejected:
		f.stats.brokerRejected.Add(1)
		return
	case !ok:
		f.stats.brokerMalformed.Add(1)
		return
	case node == f.node:
		f.stats.brokerEchoes.Add(1)
		return
	}
	f.stats.brokerReceived.Add(1)
	f.queueLocal(userID, nil, msg)
}
