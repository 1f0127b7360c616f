package wsmanager

import (
	"bytes"
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
	DefaultQueueSize          = 1 << 16
	DefaultQueueBytes         = 1 << 20
	DefaultWriteTimeout       = 10 * time.Second
	DefaultIdleTimeout        = 30 * time.Minute
)

// MinBrokerKeyLen is the shortest Options.BrokerKey NewFactory accepts, in
// bytes: the key of an HMAC-SHA256 should be at least as long as its output.
const MinBrokerKeyLen = 32

// Options configures a Factory. The zero value is ready to use: every field
// has a default. Negative values, unknown policies and a short BrokerKey
// make NewFactory fail. NewFactory copies Options (BrokerKey included), so
// changing them afterwards has no effect; the Broker, OnConnect,
// OnDisconnect and Logger it holds are called concurrently.
type Options struct {
	// MaxManagersPerUser bounds the distinct ThreadIDs one user may hold at
	// once; Factory.Manager returns ErrUserLimit beyond it. Defaults to 20.
	MaxManagersPerUser int
	// MaxConnsPerManager bounds the connections of one (UserID, ThreadID);
	// Reserve returns ErrConnLimit beyond it, and the Serve methods close
	// the transport with 1013. Defaults to 10.
	MaxConnsPerManager int
	// MaxManagers bounds the managers of the whole Factory; Factory.Manager
	// and Reserve return ErrFactoryLimit beyond it. Defaults to 0: no limit.
	MaxManagers int
	// MaxConns bounds the connections (reservations included) of the whole
	// Factory; Reserve returns ErrFactoryLimit beyond it, and the Serve
	// methods close the transport with 1013. Defaults to 0: no limit.
	MaxConns int
	// QueueSize bounds the messages waiting per connection, that is queued
	// and not yet handed to the transport; one slot is freed per message
	// handed over. Defaults to 65,536, more than the default QueueBytes
	// can hold: by default, bytes alone bound a queue.
	QueueSize int
	// QueueBytes bounds the bytes waiting per connection: each message's
	// payload plus 24 bytes for its slot, so that tiny messages are
	// bounded too. A queue with nothing waiting accepts one message of any
	// size. Defaults to 1 MiB: a reader that keeps up takes any burst
	// under it without being closed (5,000 messages of 100 bytes, say),
	// and one that stops reading is closed once a write has waited
	// WriteTimeout, or once its queue is full.
	QueueBytes int
	// OnFull is what Send does when a queue is full. Defaults to CloseSlow.
	OnFull FullPolicy
	// WriteTimeout bounds each batch the writer hands the transport, as a
	// whole: the deadline of DeadlineConn.WriteMessages, or of the context
	// a first-edition Conn's Write or WriteBatch receives. A write that
	// exceeds it closes that connection, and only that one, with 1008. It
	// also bounds the close frame of a close that delivers. Defaults to
	// 10s.
	WriteTimeout time.Duration
	// IdleTimeout is how long a Manager with no connections is kept before
	// the factory's janitor removes it. Defaults to 30m.
	IdleTimeout time.Duration
	// Broker carries Factory.SendToUser messages to the other nodes of a
	// cluster. Defaults to nil: this process only.
	Broker Broker
	// History keeps each user's last messages, with positions, so a client
	// that reconnects gets what it missed (see HistoryOptions and
	// ReserveResume). Defaults to none.
	History HistoryOptions
	// BrokerKey, if set, authenticates the envelopes the Factory exchanges
	// through Broker, or keeps in a Log: each is signed with HMAC-SHA256
	// under this key, bound to its user (and in a Log to its thread), and
	// an envelope without a valid signature is dropped, never delivered or
	// replayed, and counted in Stats.BrokerRejected, so that a client of
	// the broker without the key cannot put a message on anyone's
	// connections. Every node of a cluster needs the same key. At least
	// MinBrokerKeyLen bytes.
	// Defaults to nil: envelopes are not signed, and anyone who can publish
	// on the broker can deliver to any user.
	BrokerKey []byte
	// OnConnect, if not nil, is called for every connection once it is
	// registered and before its machine leaves Connecting, on the goroutine
	// calling Reserve or Serve and with no lock held. It is the place to
	// register statemachine observers that must see every transition, and
	// to queue a first message. Under NewEndpoint it runs before the
	// upgrade, when the connection has no transport yet: what it sends is
	// queued, and if the upgrade then fails the machine ends in Failed.
	// Defaults to nil.
	OnConnect func(*Connection)
	// OnDisconnect, if not nil, is called exactly once for every connection
	// that was served, after it ended: its transport is closed, it is
	// removed from its Manager and its machine is in Closed or Failed. err
	// is what Serve returns (nil for a peer's close). It runs with no lock
	// held, before Serve returns: on the goroutine running Serve for a
	// pull transport, and for a PushConn on the transport's goroutine
	// that ended reading or the connection's writer, whichever finished
	// last. It is the place to record presence. Factory.Close waits for it to return,
	// as for a running Handler. A reservation that is released is not
	// served and does not call it. Defaults to nil.
	OnDisconnect func(c *Connection, err error)
	// ReadRate bounds the messages each client may send on a connection
	// (see RateLimit). Defaults to none.
	ReadRate RateLimit
	// OnPanic, if not nil, is called with the value a connection's machine
	// observer panicked with, on the goroutine of the transition (which may
	// be the connection's writer, its expiry timer, or a service's own),
	// after every observer has seen the transition. The panic goes no
	// further: the transition stands, the connection is closed with 1011
	// (its Serve returns ErrObserverPanic), and Stats.ObserverPanics counts
	// it. Defaults to nil: the panic and its stack are logged at Error.
	OnPanic func(c *Connection, recovered any)
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
	case o.MaxManagers < 0:
		return o, fmt.Errorf("%w: MaxManagers %d is negative", ErrInvalidOptions, o.MaxManagers)
	case o.MaxConns < 0:
		return o, fmt.Errorf("%w: MaxConns %d is negative", ErrInvalidOptions, o.MaxConns)
	case o.QueueSize < 0:
		return o, fmt.Errorf("%w: QueueSize %d is negative", ErrInvalidOptions, o.QueueSize)
	case o.QueueBytes < 0:
		return o, fmt.Errorf("%w: QueueBytes %d is negative", ErrInvalidOptions, o.QueueBytes)
	case o.BrokerKey != nil && len(o.BrokerKey) < MinBrokerKeyLen:
		return o, fmt.Errorf("%w: BrokerKey is %d bytes, shorter than %d", ErrInvalidOptions, len(o.BrokerKey), MinBrokerKeyLen)
	case o.BrokerKey != nil && o.Broker == nil:
		return o, fmt.Errorf("%w: BrokerKey without a Broker", ErrInvalidOptions)
	case o.History.Messages < 0:
		return o, fmt.Errorf("%w: History.Messages %d is negative", ErrInvalidOptions, o.History.Messages)
	case o.History.Bytes < 0:
		return o, fmt.Errorf("%w: History.Bytes %d is negative", ErrInvalidOptions, o.History.Bytes)
	case o.History.TotalBytes < 0:
		return o, fmt.Errorf("%w: History.TotalBytes %d is negative", ErrInvalidOptions, o.History.TotalBytes)
	case o.History.MaxAge < 0:
		return o, fmt.Errorf("%w: History.MaxAge %v is negative", ErrInvalidOptions, o.History.MaxAge)
	case o.OnFull > DropOldest:
		return o, fmt.Errorf("%w: unknown OnFull %v", ErrInvalidOptions, o.OnFull)
	case o.WriteTimeout < 0:
		return o, fmt.Errorf("%w: WriteTimeout %v is negative", ErrInvalidOptions, o.WriteTimeout)
	case o.IdleTimeout < 0:
		return o, fmt.Errorf("%w: IdleTimeout %v is negative", ErrInvalidOptions, o.IdleTimeout)
	}
	var err error
	if o.ReadRate, err = o.ReadRate.withDefaults(); err != nil {
		return o, err
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
	if o.QueueBytes == 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	o.BrokerKey = bytes.Clone(o.BrokerKey)
	if o.History.Bytes == 0 {
		o.History.Bytes = DefaultHistoryBytes
	}
	if o.History.TotalBytes == 0 {
		o.History.TotalBytes = DefaultHistoryTotalBytes
	}
	if o.History.Frame == nil {
		o.History.Frame = PrefixFrame
	}
	if o.History.ResetFrame == nil {
		o.History.ResetFrame = ResetFrame
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
