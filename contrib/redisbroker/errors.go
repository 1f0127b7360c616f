package redisbroker

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by New, Connect, NewCluster,
	// ConnectCluster and NewLog for invalid options (a nil client, a client
	// that retries or redirects commands, a prefix that is empty or holds a
	// glob character, or, for a Cluster or a Log, '{' or '}', a negative
	// limit or wait), and by Subscribe, SubscribeUsers, SubscribeLog,
	// SubscribeLogUsers and AppendAsync for a nil function.
	ErrInvalidOptions = sentinel("redisbroker: invalid options")
	// ErrInvalidUser is returned by Publish, Interest.Add, Append,
	// AppendAsync and Replay for an empty user ID or one longer than
	// MaxUserIDLen, and by Append and AppendAsync for a thread ID longer
	// than MaxUserIDLen.
	ErrInvalidUser = sentinel("redisbroker: invalid user ID")
	// ErrDisconnected is returned by Connect, ConnectCluster and NewLog,
	// by Publish while the Broker is not connected, and wrapped in the
	// errors of Append and Replay, when Redis cannot be reached: a message
	// is not kept for later, so the caller learns at once that other nodes
	// did not get it.
	ErrDisconnected = sentinel("redisbroker: not connected to Redis")
	// ErrQueueFull is returned by Publish and AppendAsync, wrapping the
	// context's error, when the context ends while they wait for room among
	// the messages not yet confirmed by Redis (Options.PublishQueue and
	// PublishQueueBytes): Redis does not keep up. The message is not sent.
	ErrQueueFull = sentinel("redisbroker: publish queue full")
	// ErrClosed is returned once Close has begun by Publish, Subscribe,
	// SubscribeUsers, Interest.Add and the Log's methods, and is wrapped by
	// the done error of an append that Close stopped waiting for.
	ErrClosed = sentinel("redisbroker: closed")
)
