package natsbroker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/wsmanager"
)

// Options configures a Broker. The zero value is valid.
type Options struct {
	// Prefix is prepended to every subject: a user's messages travel on
	// "<Prefix>.<base64url(userID)>". Use a distinct prefix per service
	// sharing a NATS cluster. Defaults to DefaultPrefix.
	Prefix string
	// Logger receives connection events from Connect and dropped messages.
	// Defaults to slog.Default().
	Logger *slog.Logger
}

// Broker is a wsmanager.Broker over NATS core publish/subscribe. It is safe
// for concurrent use and starts no goroutine of its own: the NATS client
// runs the subscription's.
//
// Delivery is NATS core's: at most once. A message published while a node
// is disconnected, or dropped because a node's subscription fell too far
// behind, does not reach that node; while NATS is healthy, every node
// subscribed gets every message, and messages from one publisher arrive in
// the order they were published.
type Broker struct {
	nc     *nats.Conn
	owned  bool // Close closes nc
	prefix string
	log    *slog.Logger

	mu     sync.Mutex
	closed bool
}

var _ wsmanager.Broker = (*Broker)(nil)

// New returns a Broker on an existing connection, which the caller keeps
// owning: Close does not close it. Give the connection the reconnect options
// Connect uses so the broker survives NATS restarts.
func New(nc *nats.Conn, opts Options) (*Broker, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrInvalidOptions)
	}
	return newBroker(nc, false, opts)
}

// Connect dials NATS at url and returns a Broker that owns the connection.
// The connection reconnects forever, logs disconnects and reconnects, and
// does not buffer publishes while disconnected, so Publish reports
// ErrDisconnected instead of silently delaying. natsOpts are applied after
// these defaults and may override them.
func Connect(url string, opts Options, natsOpts ...nats.Option) (*Broker, error) {
	if !validPrefix(prefixOrDefault(opts.Prefix)) {
		return nil, fmt.Errorf("%w: prefix is not a literal NATS subject", ErrInvalidOptions)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	defaults := []nats.Option{
		nats.Name("ssot wsmanager broker"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("natsbroker: disconnected from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("natsbroker: reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
	}
	nc, err := nats.Connect(url, append(defaults, natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connect: %w", err)
	}
	b, err := newBroker(nc, true, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

func prefixOrDefault(p string) string {
	if p == "" {
		return DefaultPrefix
	}
	return p
}

func newBroker(nc *nats.Conn, owned bool, opts Options) (*Broker, error) {
	prefix := prefixOrDefault(opts.Prefix)
	if !validPrefix(prefix) {
		return nil, fmt.Errorf("%w: prefix is not a literal NATS subject", ErrInvalidOptions)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Broker{nc: nc, owned: owned, prefix: prefix, log: log}, nil
}

// Publish sends msg on userID's subject. It returns ErrDisconnected while
// the connection is down and ErrClosed after Close; it does not wait for
// other nodes to receive the message.
func (b *Broker) Publish(ctx context.Context, userID string, msg []byte) error {
	if userID == "" {
		return ErrInvalidUser
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !b.nc.IsConnected() {
		return ErrDisconnected
	}
	if err := b.nc.Publish(subject(b.prefix, userID), msg); err != nil {
		return fmt.Errorf("natsbroker: publish: %w", err)
	}
	return nil
}

// Subscribe delivers every message published under the prefix, by any
// node, to deliver, one at a time. The NATS client restores the subscription
// after a reconnect. unsubscribe stops deliveries and waits for one under
// way to finish.
func (b *Broker) Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	var (
		mu      sync.Mutex // held while delivering, so unsubscribe can wait
		stopped bool
	)
	sub, err := b.nc.Subscribe(b.prefix+".*", func(m *nats.Msg) {
		userID, ok := userFromSubject(b.prefix, m.Subject)
		if !ok {
			b.log.Warn("natsbroker: dropped a message on an unexpected subject")
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			deliver(userID, m.Data)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	// Make sure the server has the subscription before returning, so that a
	// message published right after NewFactory is not missed.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil && b.nc.IsConnected() {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			if e := sub.Unsubscribe(); e != nil && b.nc.Status() != nats.CLOSED {
				err = fmt.Errorf("natsbroker: unsubscribe: %w", e)
			}
			mu.Lock()
			stopped = true
			mu.Unlock()
		})
		return err
	}, nil
}

// Connected reports whether the connection to NATS is up, for health checks.
func (b *Broker) Connected() bool { return b.nc.IsConnected() }

// Close makes Publish fail with ErrClosed and, for a Broker made by
// Connect, flushes and closes the connection. It is idempotent. Close the
// Factory first: its Close unsubscribes.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.owned {
		if b.nc.IsConnected() {
			_ = b.nc.FlushTimeout(time.Second)
		}
		b.nc.Close()
	}
	return nil
}
