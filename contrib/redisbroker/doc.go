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
//	ACL SETUSER chat on >password resetkeys resetchannels &chat.users.* -@all +publish +psubscribe +ping
//
// Anyone allowed to publish under the prefix can put a message on any
// user's connections, so give that permission to the service's nodes only.
//
// # Guarantees
//
// Redis publish/subscribe is at-most-once. While Redis is unreachable,
// Publish returns ErrDisconnected (the Factory still delivers to local
// connections and returns and counts the error) and messages from other
// nodes do not reach the node; the subscription is restored after
// Options.ReconnectWait and delivery resumes, counted in Stats.Reconnects.
// A node whose deliveries fall behind by more than Options.PendingMessages
// or Options.PendingBytes misses the messages dropped for it;
// Stats.Dropped counts them. Messages from one publisher keep their order.
// For stronger guarantees, implement wsmanager.Broker over Redis streams.
package redisbroker
