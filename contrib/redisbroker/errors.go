package redisbroker

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by New and Connect for a nil client, a
	// client that retries commands, a prefix that is empty or holds a glob
	// character, or a negative limit or wait, and by Subscribe for a nil
	// deliver function.
	ErrInvalidOptions = sentinel("redisbroker: invalid options")
	// ErrInvalidUser is returned by Publish for an empty user ID or one
	// longer than MaxUserIDLen.
	ErrInvalidUser = sentinel("redisbroker: invalid user ID")
	// ErrDisconnected is returned by Connect, and by Publish while the
	// Broker is not connected, when Redis cannot be reached: the message is
	// not kept for later, so the caller learns at once that other nodes did
	// not get it.
	ErrDisconnected = sentinel("redisbroker: not connected to Redis")
	// ErrQueueFull is returned by Publish, wrapping the context's error,
	// when its context ends while it waits for room among the messages
	// not yet confirmed by Redis (Options.PublishQueue and
	// PublishQueueBytes): Redis does not keep up. The message is not sent.
	ErrQueueFull = sentinel("redisbroker: publish queue full")
	// ErrClosed is returned by Publish and Subscribe once Close has begun.
	ErrClosed = sentinel("redisbroker: closed")
)
