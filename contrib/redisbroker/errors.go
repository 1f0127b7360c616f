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
	// ErrDisconnected is returned by Publish and Connect when Redis cannot
	// be reached: the message is not buffered for later, so the caller
	// learns at once that other nodes did not get it.
	ErrDisconnected = sentinel("redisbroker: not connected to Redis")
	// ErrClosed is returned by Publish and Subscribe after Close.
	ErrClosed = sentinel("redisbroker: closed")
)
