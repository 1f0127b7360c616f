package wsmanager

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrClosed is returned by every method of a Factory after Factory.Close,
	// of a Manager after Manager.Close (or after the factory removed it), and
	// of a Connection once it is closing or closed.
	ErrClosed = sentinel("wsmanager: closed")
	// ErrUserLimit is returned by Factory.Manager when the user already has
	// Options.MaxManagersPerUser managers and asks for another ThreadID.
	ErrUserLimit = sentinel("wsmanager: too many threads for user")
	// ErrConnLimit is returned by Manager.Serve when the manager already
	// serves Options.MaxConnsPerManager connections; the transport is closed
	// with 1013 (try again later).
	ErrConnLimit = sentinel("wsmanager: too many connections for thread")
	// ErrQueueFull is returned by Connection.Send when the connection's queue
	// is full and Options.OnFull dropped or refused the message.
	ErrQueueFull = sentinel("wsmanager: queue full")
	// ErrInvalidUser is returned for a UserContext that fails Validate.
	ErrInvalidUser = sentinel("wsmanager: invalid user context")
	// ErrInvalidOptions is returned by NewFactory and NewEndpoint for
	// negative, unknown or contradictory options and nil required arguments.
	ErrInvalidOptions = sentinel("wsmanager: invalid options")
)

const (
	// ErrWriteTimeout is returned by Manager.Serve when a write exceeded
	// Options.WriteTimeout and the connection was closed with 1008.
	ErrWriteTimeout = sentinel("wsmanager: write timed out")
	// ErrHandlerPanic is returned by Manager.Serve when the Handler
	// panicked; the connection was closed with 1011.
	ErrHandlerPanic = sentinel("wsmanager: handler panicked")
	// ErrBroker is returned by Factory.SendToUser when Options.Broker failed
	// to publish; the message was still queued to this node's connections.
	ErrBroker = sentinel("wsmanager: broker publish failed")
)
