// Package natsbroker carries wsmanager's SendToUser messages between the
// nodes of a cluster over NATS core publish/subscribe.
//
//	b, err := natsbroker.Connect("nats://127.0.0.1:4222", natsbroker.Options{Prefix: "chat.users"})
//	// handle err; defer b.Close(ctx)
//	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b})
//
// With it, Factory.SendToUser on any node reaches the user's connections on
// every node, each connection exactly once while NATS is healthy: the
// publishing node queues to its own connections directly and ignores its
// echo, the others receive the message through their subscription.
//
// # Subjects
//
// A user's messages travel on "<prefix>.<base64url(userID)>". NATS subject
// tokens cannot hold '.', '*', '>' or white space, and a user ID can hold
// anything, so user IDs are encoded, never pasted into subjects: no user ID
// can widen a subscription or reach another user's subject.
//
// # Permissions
//
// A node publishes and subscribes on "<prefix>.*" and on nothing else: no
// request/reply inbox, no JetStream API. Grant its NATS user exactly that,
// for example in the server configuration:
//
//	authorization {
//	  users = [{
//	    user: chat, password: $CHAT_NATS_PASSWORD
//	    permissions: {
//	      publish:   {allow: ["chat.users.*"]}
//	      subscribe: {allow: ["chat.users.*"]}
//	    }
//	  }]
//	}
//
// Anyone allowed to publish under the prefix can put a message on any
// user's connections, so give that permission to the service's nodes only,
// and no other user of the NATS cluster a subscribe permission that covers
// the prefix: every message to every user travels on it.
//
// # Guarantees
//
// NATS core is at-most-once. While a node is disconnected, Publish returns
// ErrDisconnected (the Factory still delivers to local connections and
// returns and counts the error) and messages from other nodes do not reach
// it; after the client reconnects, its subscription is restored and delivery
// resumes. A node whose deliveries fall behind by more than
// Options.PendingMessages or Options.PendingBytes misses the messages
// dropped for it; Stats.Dropped counts them. Messages from one publisher keep
// their order. For stronger
// guarantees, implement wsmanager.Broker over JetStream.
package natsbroker
