package natsbroker

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by New and Connect for a nil connection,
	// a subject prefix that is not a valid, wildcard-free NATS subject, or a
	// negative pending limit, and by Subscribe for a nil deliver function.
	ErrInvalidOptions = sentinel("natsbroker: invalid options")
	// ErrInvalidUser is returned by Publish for an empty user ID or one
	// longer than MaxUserIDLen.
	ErrInvalidUser = sentinel("natsbroker: invalid user ID")
	// ErrDisconnected is returned by Publish while the connection to NATS is
	// down or reconnecting: the message is not buffered for later, so the
	// caller learns at once that other nodes did not get it.
	ErrDisconnected = sentinel("natsbroker: not connected to NATS")
	// ErrClosed is returned after Close.
	ErrClosed = sentinel("natsbroker: closed")
)
