// Package redisbroker carries wsmanager's SendToUser messages between the
// nodes of a cluster over Redis publish/subscribe.
//
//	b, err := redisbroker.Connect("redis://127.0.0.1:6379", redisbroker.Options{Prefix: "chat.users"})
//	// handle err; defer b.Close(ctx)
//	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b})
//
// With it, Factory.SendToUser on any node reaches the user's connections on
// every node, each connection exactly once while Redis is healthy: the
// publishing node queues to its own connections directly and ignores its
// echo, the others receive the message through their subscription.
//
// # Channels
//
// A user's messages travel on the channel "<prefix>.<base64url(userID)>",
// and each node subscribes to the pattern "<prefix>.*". A user ID can hold
// anything, glob characters (* ? [ ] \) included, so user IDs are encoded,
// never pasted into channel names: base64url's alphabet holds no glob
// character and no dot, so no user ID can become a pattern or reach another
// user's channel. The prefix itself must be free of glob characters.
//
// # Permissions
//
// A node runs PUBLISH on the channels under the prefix, PSUBSCRIBE of the
// one pattern "<prefix>.*", and PING (Connect's check, and a silent
// subscription's). It reads and writes no key. With Redis ACLs, a user
// holding exactly that is
//
//	ACL SETUSER chat on >password resetkeys resetchannels &chat.users.* -@all +publish +subscribe +unsubscribe +ping
//
// Anyone allowed to publish under the prefix can put a message on any
// user's connections, so give that permission to the service's nodes only.
//
// # Publishing
//
// Publish queues the message and returns; one goroutine of the Broker sends
// what is queued in pipelines, so that many PUBLISHes share a round trip to
// Redis, in the order Publish accepted them. At most Options.PublishQueue
// messages (and PublishQueueBytes) wait for Redis to confirm them; past
// that, Publish waits for room, as long as its context allows. A nil error
// therefore means the message was accepted, not yet that Redis has it.
// While the Broker is disconnected (Connected reports false), Publish
// waits for Redis's confirmation instead and returns ErrDisconnected when
// Redis cannot be reached.
//
// An accepted message that Redis does not confirm, because its pipeline
// failed, is lost together with the messages queued behind it; they are
// counted in Stats.PublishErrors and logged once until Redis confirms
// messages again. No PUBLISH is ever sent twice: a pipeline is not
// retried, since a PUBLISH whose reply was lost may have reached Redis.
// Close sends what is queued; what it has not sent when its context ends
// is not sent, and is counted as lost.
//
// # Guarantees
//
// Redis publish/subscribe is at-most-once. While Redis is unreachable,
// Publish returns ErrDisconnected (the Factory still delivers to local
// connections and returns and counts the error) and messages from other
// nodes do not reach the node; the subscription is restored after
// Options.ReconnectWait and delivery resumes, counted in Stats.Reconnects.
// Messages accepted just before an outage is noticed are lost and counted
// (see Publishing). A node whose deliveries fall behind by more than
// Options.PendingMessages or Options.PendingBytes misses the messages
// dropped for it; Stats.Dropped counts them. Messages from one publisher
// keep their order. For stronger guarantees, implement wsmanager.Broker
// over Redis streams.
package redisbroker
