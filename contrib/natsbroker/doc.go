// Package natsbroker carries wsmanager's messages between the nodes of a
// cluster over NATS: Broker over NATS core publish/subscribe, and Log over
// JetStream, which also keeps every user's history in the cluster so that a
// client resumes on any node.
//
//	b, err := natsbroker.Connect("nats://127.0.0.1:4222", natsbroker.Options{Prefix: "chat.users"})
//	// handle err; defer b.Close(ctx)
//	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b})
//
// With a Broker, Factory.SendToUser on any node reaches the user's
// connections on every node, each connection exactly once while NATS is
// healthy: the publishing node queues to its own connections directly and
// ignores its echo, the others receive the message through their
// subscription. A Broker is a wsmanager.Router: a node subscribes to the
// subject of each user it holds a connection of, and NATS sends it those
// users' messages and no others.
//
// # Subjects
//
// A user's messages travel on "<prefix>.<base64url(userID)>". A Log
// stores them on "<prefix>.log.<base64url(userID)>", and JetStream,
// once it has stored one, republishes it on
// "<prefix>.live.<base64url(userID)>". NATS subject tokens cannot hold
// '.', '*', '>' or white space, and a user ID can hold anything, so user
// IDs are encoded, never pasted into subjects: no user ID can widen a
// subscription or reach another user's subject.
//
// # Permissions
//
// A node with a Broker publishes and subscribes on "<prefix>.*" and on
// nothing else: no request/reply inbox, no JetStream API. It subscribes
// to one subject per user it holds (Broker.SubscribeUsers), or to
// "<prefix>.*" itself if Broker.Subscribe is called. Grant its NATS user
// exactly that, for example in the server configuration:
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
// user's connections (unless wsmanager.Options.BrokerKey is set), so give
// that permission to the service's nodes only, and no other user of the
// NATS cluster a subscribe permission that covers the prefix: every
// message to every user travels on it.
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
// their order. For more, use a Log.
//
// # History on JetStream
//
// A Log is a wsmanager.Log: give it to a Factory with history, and every
// SendToUser and Manager.Send message is stored in one JetStream stream
// before any node delivers it, each node is handed, as they are stored,
// the messages of the users it holds a connection of, and a client that
// reconnects, to any node, presents its position and gets what it missed
// from the stream, exactly once and in order, or a reset when the stream
// no longer holds it:
//
//	l, err := natsbroker.ConnectLog("nats://127.0.0.1:4222", natsbroker.LogOptions{
//		Options:         natsbroker.Options{Prefix: "chat.users"},
//		MessagesPerUser: 1000,
//		MaxAge:          24 * time.Hour,
//	})
//	// handle err; defer l.Close(ctx)
//	f, err := wsmanager.NewFactory(wsmanager.Options{
//		Broker:    l,
//		History:   wsmanager.HistoryOptions{Messages: 1}, // on; the stream's limits apply
//		BrokerKey: key,                                   // recommended: see below
//	})
//
// The stream, named after the prefix unless LogOptions.Stream names it,
// holds "<prefix>.log.*" and republishes each message it stores on
// "<prefix>.live.*"; ConnectLog creates it, or sets its limits and its
// republishing. Each message's position is the stream's: its epoch is the
// stream's creation time (kept across server restarts, new if the stream
// is deleted and made again), its sequence the stream sequence. Appends
// are pipelined (Log.AppendAsync): a node sends up to
// LogOptions.AppendsInFlight of them before their acknowledgements come
// back, so a SendToUser returns once the message is sent, and
// Factory.SendToUserWait once JetStream has stored it.
//
// A Log needs JetStream on the server, and its NATS user needs, for the
// prefix "chat.users" and the stream "chat_users":
//
//	permissions: {
//	  publish: {allow: [
//	    "chat.users.*", "chat.users.log.*",
//	    "$JS.API.STREAM.INFO.chat_users", "$JS.API.STREAM.CREATE.chat_users",
//	    "$JS.API.STREAM.UPDATE.chat_users", "$JS.API.STREAM.MSG.GET.chat_users",
//	    "$JS.API.CONSUMER.CREATE.chat_users.>", "$JS.API.CONSUMER.DELETE.chat_users.>",
//	    "$JS.API.CONSUMER.MSG.NEXT.chat_users.>"
//	  ]}
//	  subscribe: {allow: ["chat.users.*", "chat.users.live.*", "_INBOX.>"]}
//	}
//
// A node subscribes to the live subject of each user it holds; "_INBOX.>"
// carries the acknowledgements of its appends and the answers of the
// JetStream API, which it asks for the stream's state, a user's last
// message when it adds the user, and the messages a replay or a catch-up
// after a reconnect reads through a consumer of its own.
//
// Whoever can publish on "<prefix>.log.*" can store a message for any
// user; with wsmanager.Options.BrokerKey every node delivers and replays
// only what a node with the key appended for that user and thread, and
// counts the rest in wsmanager.Stats.BrokerRejected. Whoever can also
// read the stream can store a genuine message again, which is then
// delivered again: grant both to the service's nodes only. JetStream
// republishes on "<prefix>.live.*" itself: grant no NATS user a publish
// permission there.
package natsbroker
