package wsmanager

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// FullPolicy says what Connection.Send does when the connection's queue is
// full. The zero value is CloseSlow. It is a plain value, safe to copy and
// share.
type FullPolicy uint8

const (
	// CloseSlow closes the connection with 1008 (policy violation) and the
	// reason "slow consumer", and Send returns ErrQueueFull. It is the
	// default because a client that cannot keep up would otherwise see a
	// silently incomplete stream.
	CloseSlow FullPolicy = iota
	// DropNewest refuses the new message: Send returns ErrQueueFull and the
	// drop is counted in Stats.MessagesDropped.
	DropNewest
	// DropOldest discards the oldest message still waiting and queues the new
	// one: Send returns nil and the drop is counted in Stats.MessagesDropped.
	// Suits streams where only the latest state matters.
	DropOldest
)

// String returns "close_slow", "drop_newest" or "drop_oldest".
func (p FullPolicy) String() string {
	switch p {
	case CloseSlow:
		return "close_slow"
	case DropNewest:
		return "drop_newest"
	case DropOldest:
		return "drop_oldest"
	}
	return fmt.Sprintf("FullPolicy(%d)", uint8(p))
}

// Default values of Options.
const (
	DefaultMaxManagersPerUser = 20
	DefaultMaxConnsPerManager = 10
	DefaultQueueSize          = 256
	DefaultWriteTimeout       = 10 * time.Second
	DefaultIdleTimeout        = 30 * time.Minute
)

// Options configures a Factory. The zero value is ready to use: every field
// has a default. Negative values and unknown policies make NewFactory fail.
// NewFactory copies Options, so changing them afterwards has no effect; the
// Broker, OnConnect and Logger it holds are called concurrently.
type Options struct {
	// MaxManagersPerUser bounds the distinct ThreadIDs one user may hold at
	// once; Factory.Manager returns ErrUserLimit beyond it. Defaults to 20.
	MaxManagersPerUser int
	// MaxConnsPerManager bounds the connections of one (UserID, ThreadID);
	// Manager.Serve returns ErrConnLimit and closes the transport with 1013
	// beyond it. Defaults to 10.
	MaxConnsPerManager int
	// QueueSize bounds the messages buffered per connection: those waiting
	// plus those the writer has taken and not yet written. Defaults to 256.
	QueueSize int
	// OnFull is what Send does when a queue is full. Defaults to CloseSlow.
	OnFull FullPolicy
	// WriteTimeout bounds one Conn.Write. A write that exceeds it has its
	// context cancelled and closes that connection, and only that one, with
	// 1008. The factory's janitor checks writes every quarter of
	// WriteTimeout, so a stuck write is abandoned between 1 and 1.25 times
	// WriteTimeout after it started. Defaults to 10s.
	WriteTimeout time.Duration
	// IdleTimeout is how long a Manager with no connections is kept before
	// the factory's janitor removes it. Defaults to 30m.
	IdleTimeout time.Duration
	// Broker carries Factory.SendToUser messages to the other nodes of a
	// cluster. Defaults to nil: this process only.
	Broker Broker
	// OnConnect, if not nil, is called by Serve for every connection once it
	// is registered and before its machine leaves Connecting, on the
	// goroutine running Serve and with no lock held. It is the place to
	// register statemachine observers that must see every transition, and
	// to queue a first message. Under NewEndpoint it runs before the
	// upgrade, when the connection has no transport yet: what it sends is
	// queued, and if the upgrade then fails the machine ends in Failed.
	// Defaults to nil.
	OnConnect func(*Connection)
	// Machine configures each connection's state machine. Defaults to the
	// statemachine defaults (a history of 16 transitions).
	Machine statemachine.Options
	// Logger receives connection errors, handler panics and broker
	// failures. Defaults to slog.Default().
	Logger *slog.Logger
}

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.MaxManagersPerUser < 0:
		return o, fmt.Errorf("%w: MaxManagersPerUser %d is negative", ErrInvalidOptions, o.MaxManagersPerUser)
	case o.MaxConnsPerManager < 0:
		return o, fmt.Errorf("%w: MaxConnsPerManager %d is negative", ErrInvalidOptions, o.MaxConnsPerManager)
	case o.QueueSize < 0:
		return o, fmt.Errorf("%w: QueueSize %d is negative", ErrInvalidOptions, o.QueueSize)
	case o.OnFull > DropOldest:
		return o, fmt.Errorf("%w: unknown OnFull %v", ErrInvalidOptions, o.OnFull)
	case o.WriteTimeout < 0:
		return o, fmt.Errorf("%w: WriteTimeout %v is negative", ErrInvalidOptions, o.WriteTimeout)
	case o.IdleTimeout < 0:
		return o, fmt.Errorf("%w: IdleTimeout %v is negative", ErrInvalidOptions, o.IdleTimeout)
	}
	if o.MaxManagersPerUser == 0 {
		o.MaxManagersPerUser = DefaultMaxManagersPerUser
	}
	if o.MaxConnsPerManager == 0 {
		o.MaxConnsPerManager = DefaultMaxConnsPerManager
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// Fail at start-up, not on the first connection, if the machine options
	// are invalid.
	if _, err := statemachine.NewConn(o.Machine); err != nil {
		return o, fmt.Errorf("%w: Machine: %w", ErrInvalidOptions, err)
	}
	return o, nil
}
