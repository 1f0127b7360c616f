package wsmanager

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrClosed is returned by every method of a Factory after Factory.Close,
	// of a Manager after Manager.Close (or after the factory removed it), and
	// of a Connection once it is closing or closed.
	ErrClosed = sentinel("wsmanager: closed")
	// ErrUserLimit is returned by Factory.Manager, Factory.Reserve and
	// Factory.Serve when the user already has Options.MaxManagersPerUser
	// managers and asks for another ThreadID; Factory.Serve closes the
	// transport with 1013 (try again later), NewEndpoint answers 429.
	ErrUserLimit = sentinel("wsmanager: too many threads for user")
	// ErrConnLimit is returned by Factory.Reserve, Manager.Reserve and the
	// Serve methods when the Manager already has
	// Options.MaxConnsPerManager connections; the Serve methods close the
	// transport with 1013 (try again later), NewEndpoint answers 429.
	ErrConnLimit = sentinel("wsmanager: too many connections for thread")
	// ErrFactoryLimit is returned by Factory.Manager, the Reserve methods
	// and the Serve methods when the Factory already has Options.MaxManagers
	// managers or Options.MaxConns connections; the Serve methods close the
	// transport with 1013, NewEndpoint answers 503.
	ErrFactoryLimit = sentinel("wsmanager: factory at capacity")
	// ErrDraining is returned by the Reserve and Serve methods while
	// Factory.Drain runs, and after it until Close: the node takes no new
	// connection. The Serve methods close the transport with 1013 (try
	// again later); NewEndpoint answers 503 with Retry-After, or closes
	// with 1013 after the upgrade with EndpointOptions.CloseAfterUpgrade.
	ErrDraining = sentinel("wsmanager: draining")
	// ErrQueueFull is returned by Connection.Send when the connection's queue
	// is full and Options.OnFull refused the message; wrapped, by
	// Factory.SendToUser and Manager.Send when some of the connections they
	// queue to in the call were full (not with a Log, whose deliveries
	// happen after the call: Stats counts those); and by the Serve methods
	// of a connection CloseSlow closed.
	ErrQueueFull = sentinel("wsmanager: queue full")
	// ErrInvalidUser is returned for a UserContext that fails Validate.
	ErrInvalidUser = sentinel("wsmanager: invalid user context")
	// ErrInvalidOptions is returned by NewFactory and NewEndpoint for
	// negative, unknown or contradictory options and nil required arguments.
	ErrInvalidOptions = sentinel("wsmanager: invalid options")
)

const (
	// ErrWriteTimeout is returned by the Serve methods when a write exceeded
	// Options.WriteTimeout and the connection was closed with 1008.
	ErrWriteTimeout = sentinel("wsmanager: write timed out")
	// ErrHandlerPanic is returned by the Serve methods when the Handler
	// panicked; the connection was closed with 1011.
	ErrHandlerPanic = sentinel("wsmanager: handler panicked")
	// ErrRateLimited is returned by the Serve methods when the client sent
	// past Options.ReadRate and the connection was closed with 1008.
	ErrRateLimited = sentinel("wsmanager: rate limited")
	// ErrObserverPanic is returned by the Serve methods when an observer of
	// the connection's machine panicked; the connection was closed with
	// 1011 and the panic handed to Options.OnPanic.
	ErrObserverPanic = sentinel("wsmanager: a state machine observer panicked")
	// ErrBroker is returned when Options.Broker fails: by NewFactory when
	// its subscription fails; by Factory.SendToUser when Publish fails (the
	// message was still queued to this node's connections) or, with a Log,
	// when an append it waits for fails; by the Reserve and Serve methods
	// when a Router cannot subscribe to the user (the Serve methods close
	// the transport with 1013, NewEndpoint answers 503); and by
	// Factory.Close when unsubscribing fails.
	ErrBroker = sentinel("wsmanager: broker failed")
)

// ErrInvalidPosition is returned by ParsePosition for a string that is not
// a Position.
const ErrInvalidPosition = sentinel("wsmanager: invalid position")
