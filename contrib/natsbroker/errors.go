package natsbroker

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by New and Connect for a nil connection,
	// a subject prefix that is not a valid, wildcard-free NATS subject, or a
	// negative pending limit or AppendsInFlight, by Subscribe and the like
	// for a nil deliver function, and by AppendAsync for a nil done
	// function.
	ErrInvalidOptions = sentinel("natsbroker: invalid options")
	// ErrInvalidUser is returned by Publish, the appends and Interest.Add
	// for an empty user ID or one longer than MaxUserIDLen.
	ErrInvalidUser = sentinel("natsbroker: invalid user ID")
	// ErrDisconnected is returned by Publish and the appends while the
	// connection to NATS is down or reconnecting: the message is not
	// buffered for later, so the caller learns at once that other nodes did
	// not get it. Interest.Add returns it too: the server does not have
	// the subscription.
	ErrDisconnected = sentinel("natsbroker: not connected to NATS")
	// ErrClosed is returned after Close.
	ErrClosed = sentinel("natsbroker: closed")
)
