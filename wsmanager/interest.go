package wsmanager

import "context"

// Router is a Broker that routes by interest: instead of receiving every
// message published for any user, a node subscribes, at the broker, to the
// users it holds a Manager for, so that a cluster of N nodes does not do N
// times the work of one. A Factory whose Broker is a Router uses
// SubscribeUsers instead of Broker.Subscribe; nothing is to be turned on.
//
// Implementations must be safe for concurrent use.
type Router interface {
	Broker
	// SubscribeUsers opens this node's subscription, empty: deliver is
	// called for the messages published for the users added to the
	// returned Interest, and no others. It is called once, by NewFactory,
	// and Interest.Close by Factory.Close. deliver is called as
	// Broker.Subscribe's is: possibly concurrently, for long only in
	// queueing, taking ownership of msg.
	SubscribeUsers(deliver func(userID string, msg []byte)) (Interest, error)
}

// LogRouter is a Log that routes its live deliveries by interest, as a
// Router does: a node is handed, as they are stored, only the messages of
// the users it added to the Interest. Replay still reads the stream, for
// any user. A Factory with history whose Broker is a LogRouter uses
// SubscribeLogUsers instead of Log.SubscribeLog.
//
// Implementations must be safe for concurrent use.
type LogRouter interface {
	Log
	// SubscribeLogUsers is SubscribeLog for the users added to the returned
	// Interest: deliver gets every message stored for them from the moment
	// Add returns, with its thread and position, in position order per
	// user. When a delivery path was interrupted (the broker restarted, the
	// connection to it dropped), the LogRouter delivers, once it is back,
	// what each added user's stream got meanwhile, from the message after
	// the last it delivered for that user, before anything newer; a
	// message the stream no longer holds by then is lost to live delivery,
	// and the client finds the gap when it next resumes.
	SubscribeLogUsers(deliver func(userID, threadID string, pos Position, msg []byte)) (Interest, error)
}

// Interest is the set of users a node receives messages for, at the
// broker. The Factory adds a user when the user's first Manager appears on
// this node and removes the user after the user's last Manager is gone. It
// never adds a user twice without removing it in between, never calls Add
// or Remove concurrently for one user, and calls neither after Close.
type Interest interface {
	// Add subscribes to userID's messages. It returns once the broker has
	// the subscription: every message published (or stored) for userID
	// after Add returns is delivered. It returns ctx's error if ctx ends
	// first, and the broker's error if it refuses or cannot be reached;
	// the user is then not added, the connection being registered is
	// refused with ErrBroker (close 1013, or 503 before an upgrade: try
	// again later), and the Factory adds the user again on their next
	// connection. Users already added keep being served meanwhile.
	Add(ctx context.Context, userID string) error
	// Remove unsubscribes from userID's messages. It does not wait for the
	// broker: a message already on its way may still be delivered, and the
	// Factory finds no connection for it.
	Remove(userID string) error
	// Close removes every user and stops deliveries before it returns,
	// waiting for one under way to finish.
	Close() error
}

// AsyncLog is a Log that pipelines appends: many messages are on their
// way to the log's storage at once, and their acknowledgements are awaited
// together, so that a node appends at the storage's rate, not at one
// round trip per message. A Factory whose Log is an AsyncLog appends
// through AppendAsync; Factory.SendToUserWait waits for the
// acknowledgement.
//
// Implementations must be safe for concurrent use.
type AsyncLog interface {
	Log
	// AppendAsync hands msg to the Log for userID's stream, with threadID
	// (as Append), and returns without waiting for it to be stored, once
	// the Log has room for it among the appends under way; it waits for
	// room as long as ctx allows. It returns an error, and never calls
	// done, when it does not accept msg. Otherwise done is called exactly
	// once, from a goroutine of the Log, with the message's position once
	// it is stored, or with the error that kept it from being stored (an
	// unanswered append may have been stored all the same). done must not
	// block. The messages accepted for one user are stored in the order
	// AppendAsync accepted them, and their done calls come in that order.
	AppendAsync(ctx context.Context, userID, threadID string, msg []byte, done func(Position, error)) error
}
