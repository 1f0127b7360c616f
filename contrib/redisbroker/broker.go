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

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// Options configures a Broker. The zero value is valid. New and Connect copy
// it.
type Options struct {
	// Prefix starts every channel: a user's messages travel on
	// "<Prefix>.<base64url(userID)>", and a Log's keys and channels start
	// with "<Prefix>.log." (see Log). Use a distinct prefix per service
	// sharing a Redis server; it must not hold a glob character
	// (* ? [ ] \) or a control character, nor, on a Cluster or for a Log,
	// '{' or '}'. Defaults to DefaultPrefix.
	Prefix string
	// Logger receives the subscriptions' connection events (lost,
	// restored) and the publisher's (published messages lost, confirmed
	// again). Defaults to slog.Default().
	Logger *slog.Logger
	// PendingMessages and PendingBytes bound the messages (and their bytes)
	// this node has received and not yet handed to the subscriber while its
	// deliveries fall behind, for each subscription; past either, new
	// messages for this node are dropped and Stats.Dropped counts them. Default to
	// DefaultPendingMessages and DefaultPendingBytes; negative values are
	// ErrInvalidOptions.
	PendingMessages int
	PendingBytes    int
	// ReconnectWait is how long a subscription waits after losing its
	// connection to Redis before it tries again, and between tries.
	// Defaults to 250ms; negative is ErrInvalidOptions.
	ReconnectWait time.Duration
	// PublishQueue and PublishQueueBytes bound the messages (and their
	// bytes) that Publish has accepted and Redis has not yet confirmed,
	// and, apart from them, a Log's appends. While either bound is
	// reached, Publish (or AppendAsync) waits for room. A message larger
	// than PublishQueueBytes is accepted when nothing else waits.
	// Default to DefaultPublishQueue and DefaultPublishQueueBytes;
	// negative values are ErrInvalidOptions.
	PublishQueue      int
	PublishQueueBytes int
}

// Defaults of Options.
const (
	DefaultPendingMessages = 65536
	DefaultPendingBytes    = 64 << 20
	DefaultReconnectWait   = 250 * time.Millisecond

	DefaultPublishQueue      = 4096
	DefaultPublishQueueBytes = 4 << 20
)

// MaxUserIDLen is the longest user ID Publish accepts, wsmanager's own
// bound: no connection can have a longer one.
const MaxUserIDLen = brokerkit.MaxUserIDLen

// Broker is a wsmanager.Broker, and a wsmanager.Router, over Redis
// publish/subscribe, on one Redis server or a Redis Cluster. It is safe
// for concurrent use. Each subscription owns a goroutine that hands
// messages to the subscriber in order, and goroutines reading from Redis:
// one for Subscribe's pattern subscription, one for each Redis server
// (each master of a Cluster) that serves a user added to a SubscribeUsers
// Interest. Unsubscribe, Interest.Close and Close stop them and wait for
// them. The Broker owns one more goroutine, which runs while published
// messages wait to be sent and sends them in pipelines; Close waits for
// it. The zero value is not usable; create a Broker with Connect, New,
// ConnectCluster or NewCluster.
//
// Delivery is Redis publish/subscribe's: at most once. A message published
// while a node's subscription is down, or dropped because a node fell too
// far behind, does not reach that node; while Redis is healthy, every node
// subscribed to a user gets every message of the user, and messages from
// one publisher arrive in the order they were published.
type Broker struct {
	client  redis.UniversalClient // commands and pipelines
	single  *redis.Client         // the client of a standalone Redis; nil for a Cluster
	cluster *redis.ClusterClient  // the client of a Redis Cluster; nil for a standalone Redis
	owned   bool                  // Close closes client
	prefix  string
	opts    Options // with defaults

	live      brokerkit.Live
	pub       *publisher
	counters  brokerkit.Counters
	closed    atomic.Bool
	closeOnce sync.Once
	closeDone chan struct{} // closed when Close's work is done
	closeErr  error
}

// Stats are a snapshot of a Broker's counters, a plain value safe to copy;
// the zero value means nothing happened. Taking one reads atomics only: it
// never waits for a publish or a delivery, nor makes one wait.
//
// Every Publish call is counted once, in Published or PublishErrors, when
// its outcome is known: at once when Publish refuses the message, when
// Redis replies to it, or when it is lost. Until then it is in neither, so
// right after a Publish returns nil the two may not add up yet.
type Stats struct {
	Published     uint64 // messages Redis confirmed, replying to their PUBLISH (or SPUBLISH, or a Log's append)
	PublishErrors uint64 // messages Publish refused, and accepted messages Redis did not confirm (see Publish)
	Delivered     uint64 // messages passed to the subscriber
	Dropped       uint64 // messages dropped for this node because its deliveries fell behind (and, for a Log, see Log.Stats)
	Malformed     uint64 // messages under the prefix that no Broker published, dropped
	Reconnects    uint64 // subscription connections restored after their connection to Redis was lost
	Connected     bool   // the last exchange with Redis (a pipeline of publishes or appends, a subscription's connection) succeeded
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
	return newBroker(client, nil, false, opts), nil
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
	b := newBroker(client, nil, true, opts)
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
	if opts.PendingMessages < 0 || opts.PendingBytes < 0 || opts.ReconnectWait < 0 || opts.PublishQueue < 0 || opts.PublishQueueBytes < 0 {
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
	if opts.PublishQueue == 0 {
		opts.PublishQueue = DefaultPublishQueue
	}
	if opts.PublishQueueBytes == 0 {
		opts.PublishQueueBytes = DefaultPublishQueueBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return opts, nil
}

// newBroker returns a Broker on single, a standalone Redis's client, or
// else on cluster.
func newBroker(single *redis.Client, cluster *redis.ClusterClient, owned bool, opts Options) *Broker {
	b := &Broker{single: single, cluster: cluster, owned: owned, prefix: opts.Prefix, opts: opts, closeDone: make(chan struct{})}
	if cluster != nil {
		b.client = cluster
	} else {
		b.client = single
	}
	b.pub = newPublisher(b.client, cluster != nil, &b.counters, opts)
	return b
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

// Publish queues msg for userID's channel and returns; one goroutine sends
// the queued messages to Redis in order, many PUBLISHes to a round trip.
// Messages from one Broker reach the other nodes in the order Publish
// accepted them.
//
// While the Broker is not connected (Connected reports false: the last
// exchange with Redis failed, or none has happened yet), Publish also waits
// for Redis to confirm the message and returns what happened to it, so it
// returns ErrDisconnected at once while Redis cannot be reached; a
// confirmation makes the Broker connected again.
//
// A nil error means the message was accepted (and, while disconnected,
// confirmed). An accepted message that Redis then does not confirm is
// lost: the pipeline it was in failed, and the messages waiting behind it
// are not sent either, since they would reach the other nodes late. Such
// a message is counted in Stats.PublishErrors and logged, once until
// Redis confirms messages again, without its content; it may have reached
// Redis before the failure, but it is never sent a second time.
//
// Publish returns ErrInvalidUser for an empty user ID or one longer than
// MaxUserIDLen and ErrClosed once Close has begun. While
// Options.PublishQueue or PublishQueueBytes is reached it waits for room,
// and returns ErrQueueFull wrapping ctx.Err() if ctx ends first. If ctx
// ends while Publish waits for a confirmation, it returns ctx.Err() and the
// message may still be sent. Publish does not wait for other nodes to
// receive the message.
func (b *Broker) Publish(ctx context.Context, userID string, msg []byte) error {
	m, err := b.outgoing(ctx, userID, msg)
	if err == nil {
		err = b.pub.put(ctx, m)
	}
	if err != nil {
		b.counters.PublishErrors.Add(1)
		return err
	}
	// From here on the publisher counts the message.
	if m.result == nil {
		return nil
	}
	select {
	case err := <-m.result:
		return err
	case <-ctx.Done():
		b.pub.abandon()
		return ctx.Err()
	}
}

// outgoing checks a message and prepares it for the publisher.
func (b *Broker) outgoing(ctx context.Context, userID string, msg []byte) (outgoing, error) {
	if !brokerkit.ValidUser(userID) {
		return outgoing{}, ErrInvalidUser
	}
	if err := ctx.Err(); err != nil {
		return outgoing{}, err
	}
	m := outgoing{channel: brokerkit.Topic(b.prefix, userID), msg: msg}
	if !b.counters.Connected.Load() {
		m.result = make(chan error, 1)
	}
	return m, nil
}

// Connected reports whether the broker's last exchange with Redis, a
// pipeline of publishes or appends or a subscription's connection,
// succeeded, for health checks.
func (b *Broker) Connected() bool { return b.counters.Connected.Load() }

// Stats returns the counters.
func (b *Broker) Stats() Stats { return Stats(b.counters.Snapshot()) }

// Close makes Publish, Subscribe and SubscribeUsers fail with ErrClosed
// (and the Log's methods, for a Broker a Log took over), sends the
// messages Publish accepted and has not yet sent, ends every subscription
// (waiting for a delivery under way) and, for a Broker made by Connect,
// closes the client. It waits until that is done or returns ctx.Err():
// then the messages not yet sent never are, and are counted in
// Stats.PublishErrors, and the work goes on in the background until a
// pipeline under way ends, within the client's read and write timeouts (a
// subscription that is dialling Redis ends once the dial does). It is
// idempotent. Close the Factory first, so that it unsubscribes and stops
// sending before the broker goes.
func (b *Broker) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		b.pub.close()
		go func() { // ends once every subscription and the publisher have
			defer close(b.closeDone)
			b.live.StopAll()
			b.pub.wait()
			if b.owned {
				b.closeErr = b.client.Close()
			}
		}()
	})
	select {
	case <-b.closeDone:
		return b.closeErr
	case <-ctx.Done():
		b.pub.abandon()
		return ctx.Err()
	}
}
