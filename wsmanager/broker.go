package wsmanager

import (
	"context"
)

// Broker carries Factory.SendToUser messages between the nodes of a
// cluster; adapters for real brokers live in their own modules. With a
// Broker, SendToUser queues a message to the local connections of the user
// and publishes it once; every other node's Factory receives it through its
// subscription and queues it to its own connections of that user. A node
// recognises and ignores its own messages, so a broker that echoes
// publishers' messages back to them is fine.
//
// The cross-node guarantee is the Broker's: over NATS core, for example, a
// message published while a node is disconnected never reaches that node's
// connections (at-most-once). Order is kept for messages from one node if
// the Broker keeps a publisher's order.
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
	// it afterwards. Subscribe is called once, by NewFactory;
	// unsubscribe is called once, by Factory.Close, and must stop
	// deliveries before it returns.
	Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error)
}

// The envelope is what a Factory publishes: a version byte, the publishing
// node's random ID, then the message. The node ID lets a node drop its own
// messages when the broker echoes them, which is what makes delivery
// exactly-once per connection while the broker is healthy.
const (
	envelopeVersion = 1
	nodeIDLen       = 16
	envelopeHeader  = 1 + nodeIDLen
)

func encodeEnvelope(node [nodeIDLen]byte, msg []byte) []byte {
	b := make([]byte, envelopeHeader+len(msg))
	b[0] = envelopeVersion
	copy(b[1:], node[:])
	copy(b[envelopeHeader:], msg)
	return b
}

// decodeEnvelope splits an envelope. It reports false for anything that is
// not a version-1 envelope: brokers are shared infrastructure, and a
// subject may carry messages that no Factory published.
func decodeEnvelope(b []byte) (node [nodeIDLen]byte, msg []byte, ok bool) {
	if len(b) < envelopeHeader || b[0] != envelopeVersion {
		return node, nil, false
	}
	copy(node[:], b[1:envelopeHeader])
	return node, b[envelopeHeader:], true
}

// deliverRemote is the Factory's broker subscription: it queues another
// node's message to this node's connections of userID.
func (f *Factory) deliverRemote(userID string, env []byte) {
	if f.isClosed.Load() {
		return
	}
	node, msg, ok := decodeEnvelope(env)
	switch {
	case !ok:
		f.stats.brokerMalformed.Add(1)
		return
	case node == f.node:
		f.stats.brokerEchoes.Add(1)
		return
	}
	f.stats.brokerReceived.Add(1)
	f.sendLocal(userID, msg)
}
