// Package redisbroker carries wsmanager's SendToUser messages between the
// nodes of a cluster over Redis publish/subscribe, on one Redis server or a
// Redis Cluster, and keeps each user's history in Redis Streams for
// clients that resume on any node.
//
//	b, err := redisbroker.Connect("redis://127.0.0.1:6379", redisbroker.Options{Prefix: "chat.users"})
//	// or: redisbroker.ConnectCluster([]string{"10.0.0.1:6379", "10.0.0.2:6379"}, redisbroker.Options{Prefix: "chat.users"})
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
// A user's messages travel on the channel "<prefix>.<base64url(userID)>".
// A Broker is a wsmanager.Router: each node subscribes to the channels of
// the users it holds connections of, and Redis sends it only their
// messages, so N nodes do not each receive every message. Subscribe, for
// callers that want every user's messages, subscribes to the pattern
// "<prefix>.*" instead. A user ID can hold anything, glob characters
// (* ? [ ] \) included, so user IDs are encoded, never pasted into channel
// names: base64url's alphabet holds no glob character and no dot, so no
// user ID can become a pattern or reach another user's channel. The prefix
// itself must be free of glob characters.
//
// # Redis Cluster
//
// NewCluster and ConnectCluster run the same Broker on a Redis Cluster
// (Redis 7 or later) through sharded publish/subscribe: Publish runs
// SPUBLISH, which the master of the channel's hash slot serves, and a node
// keeps one subscription connection per master that serves one of its
// users, subscribing with SSUBSCRIBE. When such a connection ends (its
// master failed, or Redis moved a channel's slot and ended the
// subscription), the node learns the cluster's layout again and, every
// Options.ReconnectWait, subscribes each of those users on the master that
// now serves its slot. Subscribe has no sharded counterpart and is not
// available on a Cluster.
//
// # The Log
//
// NewLog turns a Broker into a Log: a wsmanager.Log on Redis Streams, for
// a Factory with wsmanager.Options.History. Each user has a stream,
// "{<prefix>.log.<base64url(userID)>}.stream", bounded by
// LogOptions.MessagesPerUser and MaxAge, and beside it a hash holding the
// stream's epoch; both keys and the user's live channel,
// "<prefix>.log.<base64url(userID)>", hash to one Cluster slot. An append
// is a Lua script that stores the message and then publishes it, with its
// position, on the live channel: a node hands on a message only once it is
// stored. Appends are pipelined (wsmanager.AsyncLog), and a node's live
// deliveries are routed by interest (wsmanager.LogRouter): after a lost
// connection, or a Cluster failover, each user is caught up from its
// stream.
//
// # Permissions
//
// A node of a Broker on one Redis server runs PUBLISH on the channels
// under the prefix, SUBSCRIBE and UNSUBSCRIBE of its users' channels, and
// PING (Connect's check, and a silent subscription's); Subscribe adds
// PSUBSCRIBE of the one pattern "<prefix>.*". It reads and writes no key.
// With Redis ACLs, a user holding exactly that is
//
//	ACL SETUSER chat on >password resetkeys resetchannels &chat.users.* -@all +publish +subscribe +unsubscribe +ping
//
// A Log also reads and writes its users' keys, through its scripts and
// XRANGE:
//
//	ACL SETUSER chat on >password resetkeys resetchannels ~{chat.users.log.* &chat.users.* -@all +publish +subscribe +unsubscribe +ping +evalsha +eval +script|load +xadd +xtrim +xdel +xrange +hmget +hset +exists +del +pexpire
//
// On a Cluster, give every node the same user, with SPUBLISH, SSUBSCRIBE
// and SUNSUBSCRIBE instead of PUBLISH, SUBSCRIBE and UNSUBSCRIBE, and
// CLUSTER SLOTS, which the client reads the layout with:
//
//	ACL SETUSER chat on >password resetkeys resetchannels ~{chat.users.log.* &chat.users.* -@all +spublish +ssubscribe +sunsubscribe +ping +cluster|slots +evalsha +eval +script|load +xadd +xtrim +xdel +xrange +hmget +hset +exists +del +pexpire
//
// Anyone allowed to publish under the prefix can put a message on any
// user's connections, and anyone allowed to write the Log's keys can put
// one in a user's history, so give those permissions to the service's
// nodes only, and set wsmanager.Options.BrokerKey.
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
// messages again. On a Cluster, where a pipeline goes to several masters,
// only the messages of a master that failed are lost, unless all failed.
// No PUBLISH is ever sent twice: a pipeline is not retried, since a
// PUBLISH whose reply was lost may have reached Redis. Close sends what is
// queued; what it has not sent when its context ends is not sent, and is
// counted as lost.
//
// # Guarantees
//
// Redis publish/subscribe is at-most-once. While Redis is unreachable,
// Publish returns ErrDisconnected (the Factory still delivers to local
// connections and returns and counts the error) and messages from other
// nodes do not reach the node; the subscriptions are restored after
// Options.ReconnectWait and delivery resumes, counted in Stats.Reconnects.
// Messages accepted just before an outage is noticed are lost and counted
// (see Publishing). During a Cluster failover, the messages published for
// the failed master's users until its replica takes over are counted in
// PublishErrors; those published on the new master before a node's
// subscription reaches it are lost to that node without a count. A node
// whose deliveries fall behind by more than Options.PendingMessages or
// Options.PendingBytes misses the messages dropped for it; Stats.Dropped
// counts them. Messages from one publisher keep their order.
//
// The Log is stronger: a message is delivered only once stored, a node
// that lost its subscription catches up from the stream, and a client
// that resumes gets every message it missed exactly once, in order, while
// the stream still holds them, or a reset when it does not. What Redis
// itself loses is beyond it: an append that a master acknowledged and did
// not replicate before it failed is gone from the stream, and a stream
// deleted or evicted starts a new epoch, so that its clients get a reset.
package redisbroker
