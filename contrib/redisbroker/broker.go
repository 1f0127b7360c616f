package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// Options configures a Broker. The zero value is valid. New and Connect copy
// it.
type Options struct {
	// Prefix starts every channel: a user's messages travel on
	// "<Prefix>.<base64url(userID)>". Use a distinct prefix per service
	// sharing a Redis server; it must not hold a glob character
	// (* ? [ ] \) or a control character. Defaults to DefaultPrefix.
	Prefix string
	// Logger receives the subscription's connection events: lost, restored.
	// Defaults to slog.Default().
	Logger *slog.Logger
	// PendingMessages and PendingBytes bound the messages (and their bytes)
	// this node has received and not yet handed to the subscriber while its
	// deliveries fall behind; past either, new messages for this node are
	// dropped and Stats.Dropped counts them. Default to
	// DefaultPendingMessages and DefaultPendingBytes; negative values are
	// ErrInvalidOptions.
	PendingMessages int
	PendingBytes    int
	// ReconnectWait is how long the subscription waits after losing its
	// connection to Redis before it tries again, and between tries.
	// Defaults to 250ms; negative is ErrInvalidOptions.
	ReconnectWait time.Duration
}

// Defaults of Options.
const (
	DefaultPendingMessages = 65536
	DefaultPendingBytes    = 64 << 20
	DefaultReconnectWait   = 250 * time.Millisecond
)

// MaxUserIDLen is the longest user ID Publish accepts, wsmanager's own
// bound: no connection can have a longer one.
const MaxUserIDLen = brokerkit.MaxUserIDLen

// Broker is a wsmanager.Broker over Redis publish/subscribe. It is safe for
// concurrent use. Each subscription owns two goroutines, one reading from
// its Redis connection and one handing messages to the subscriber in
// order; unsubscribe and Close stop them and wait for them. The zero value
// is not usable; create a Broker with Connect or New.
//
// Delivery is Redis publish/subscribe's: at most once. A message published
// while a node's subscription is down, or dropped because a node fell too
// far behind, does not reach that node; while Redis is healthy, every node
// subscribed gets every message, and messages from one publisher arrive in
// the order they were published.
type Broker struct {
	client  *redis.Client
	owned   bool // Close closes client
	prefix  string
	pattern string
	opts    Options // with defaults

	live      brokerkit.Live
	counters  brokerkit.Counters
	closed    atomic.Bool
	closeOnce sync.Once
	closeDone chan struct{} // closed when Close's work is done
	closeErr  error
}

// Stats are a snapshot of a Broker's counters, a plain value safe to copy;
// the zero value means nothing happened. Taking one reads atomics only: it
// never waits for a publish or a delivery, nor makes one wait.
type Stats struct {
	Published     uint64 // messages handed to Redis
	PublishErrors uint64 // Publish calls that failed, ErrDisconnected included
	Delivered     uint64 // messages passed to the subscriber
	Dropped       uint64 // messages dropped for this node because its deliveries fell behind
	Malformed     uint64 // messages under the prefix that no Broker published, dropped
	Reconnects    uint64 // subscriptions restored after their connection to Redis was lost
	Connected     bool   // the last exchange with Redis (a publish, the subscription's connection) succeeded
}

var _ wsmanager.Broker = (*Broker)(nil)

// New returns a Broker on an existing client, which the caller keeps
// owning: Close does not close it. The client must not retry commands
// (redis.Options.MaxRetries -1): a retried PUBLISH whose first try reached
// Redis delivers the message twice. New returns ErrInvalidOptions for a
// client that retries.
func New(client *redis.Client, opts Options) (*Broker, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrInvalidOptions)
	}
	if client.Options().MaxRetries > 0 {
		return nil, fmt.Errorf("%w: the client retries commands, which can publish a message twice; set MaxRetries to -1", ErrInvalidOptions)
	}
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	return newBroker(client, false, opts), nil
}

// Connect parses url (redis://[user:password@]host:port[/db] or rediss://
// for TLS, with the query parameters of redis.ParseURL), connects, checks
// with a PING that Redis answers and returns a Broker that owns the client.
// The client does not retry commands (see New) and makes one dial attempt
// per command, so that Publish reports ErrDisconnected at once while Redis
// is down; configure functions are applied after these defaults and may
// change other settings. An error never quotes the URL, nor the password
// in it.
func Connect(url string, opts Options, configure ...func(*redis.Options)) (*Broker, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, brokerkit.MalformedURLError{Pkg: "redisbroker", Err: err}
	}
	if ro.MaxRetries > 0 {
		return nil, fmt.Errorf("%w: the URL sets max_retries, which can publish a message twice", ErrInvalidOptions)
	}
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	for _, c := range configure {
		c(ro)
	}
	if ro.MaxRetries > 0 {
		return nil, fmt.Errorf("%w: configure set MaxRetries, which can publish a message twice", ErrInvalidOptions)
	}
	client := redis.NewClient(ro)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisbroker: connect: %w", classify(err))
	}
	b := newBroker(client, true, opts)
	b.counters.Connected.Store(true)
	return b, nil
}

// withDefaults checks opts and fills in the defaults.
func withDefaults(opts Options) (Options, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !validPrefix(opts.Prefix) {
		return opts, fmt.Errorf("%w: the prefix holds a glob or control character", ErrInvalidOptions)
	}
	if opts.PendingMessages < 0 || opts.PendingBytes < 0 || opts.ReconnectWait < 0 {
		return opts, fmt.Errorf("%w: negative limit or wait", ErrInvalidOptions)
	}
	if opts.PendingMessages == 0 {
		opts.PendingMessages = DefaultPendingMessages
	}
	if opts.PendingBytes == 0 {
		opts.PendingBytes = DefaultPendingBytes
	}
	if opts.ReconnectWait == 0 {
		opts.ReconnectWait = DefaultReconnectWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return opts, nil
}

func newBroker(client *redis.Client, owned bool, opts Options) *Broker {
	return &Broker{client: client, owned: owned, prefix: opts.Prefix, pattern: opts.Prefix + ".*", opts: opts, closeDone: make(chan struct{})}
}

// classify returns err wrapped in ErrDisconnected unless Redis itself
// answered it (a refused command, an authentication error): those are
// configuration errors that a reconnect does not mend.
func classify(err error) error {
	if _, ok := errors.AsType[redis.Error](err); ok {
		return err
	}
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// Publish sends msg on userID's channel. It returns ErrInvalidUser for an
// empty user ID or one longer than MaxUserIDLen, ErrDisconnected while Redis
// cannot be reached, ctx.Err() when ctx ends first, and ErrClosed after
// Close; it does not wait for other nodes to receive the message.
func (b *Broker) Publish(ctx context.Context, userID string, msg []byte) error {
	err := b.publish(ctx, userID, msg)
	if err != nil {
		b.counters.PublishErrors.Add(1)
		return err
	}
	b.counters.Published.Add(1)
	return nil
}

func (b *Broker) publish(ctx context.Context, userID string, msg []byte) error {
	if !brokerkit.ValidUser(userID) {
		return ErrInvalidUser
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	if err := b.client.Publish(ctx, brokerkit.Topic(b.prefix, userID), msg).Err(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		err = classify(err)
		if errors.Is(err, ErrDisconnected) {
			b.counters.Connected.Store(false)
		}
		return fmt.Errorf("redisbroker: publish: %w", err)
	}
	b.counters.Connected.Store(true)
	return nil
}

// Connected reports whether the broker's last exchange with Redis, a
// publish or its subscription's connection, succeeded, for health checks.
func (b *Broker) Connected() bool { return b.counters.Connected.Load() }

// Stats returns the counters.
func (b *Broker) Stats() Stats { return Stats(b.counters.Snapshot()) }

// Close makes Publish and Subscribe fail with ErrClosed, ends every
// subscription (waiting for a delivery under way) and, for a Broker made
// by Connect, closes the client; it waits until that is done or returns
// ctx.Err() (a subscription that is dialling Redis ends once the dial
// does). It is idempotent. Close the Factory first, so that it unsubscribes
// and stops sending before the broker goes.
func (b *Broker) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		go func() { // ends once every subscription has
			defer close(b.closeDone)
			b.live.StopAll()
			if b.owned {
				b.closeErr = b.client.Close()
			}
		}()
	})
	select {
	case <-b.closeDone:
		return b.closeErr
	case <-ctx.Done():
		return ctx.Err()
	}
}
