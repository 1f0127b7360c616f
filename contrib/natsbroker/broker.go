package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// Options configures a Broker. The zero value is valid. New and Connect copy
// it; the Logger is called from the NATS client's goroutines.
type Options struct {
	// Prefix is prepended to every subject: a user's messages travel on
	// "<Prefix>.<base64url(userID)>". Use a distinct prefix per service
	// sharing a NATS cluster. Defaults to DefaultPrefix.
	Prefix string
	// Logger receives connection events from Connect. Defaults to
	// slog.Default().
	Logger *slog.Logger
	// PendingMessages and PendingBytes bound the messages (and their bytes)
	// this node has received and not yet handed to the subscriber while its
	// deliveries fall behind; past either, new messages for this node are
	// dropped and Stats.Dropped counts them. Default to the NATS client's
	// own limits (nats.DefaultSubPendingMsgsLimit and
	// nats.DefaultSubPendingBytesLimit); negative values are
	// ErrInvalidOptions.
	PendingMessages int
	PendingBytes    int
}

// Broker is a wsmanager.Router over NATS core publish/subscribe: a node
// receives, through SubscribeUsers, the messages of the users it adds and
// no others, or, through Subscribe, every message. It is safe for
// concurrent use. Each subscription and Interest owns the goroutines that
// hand received messages to the subscriber in order; unsubscribe,
// Interest.Close and Close stop them and wait for them. The zero value is
// not usable; create a Broker with Connect or New.
//
// Delivery is NATS core's: at most once. A message published while a node
// is disconnected, or dropped because a node's subscription fell too far
// behind, does not reach that node; while NATS is healthy, every node
// subscribed to a user gets every message of that user, and messages from
// one publisher arrive in the order they were published.
type Broker struct {
	nc        *nats.Conn
	owned     bool          // Close closes nc
	released  chan struct{} // closed when an owned nc has closed
	prefix    string
	pendMsgs  int
	pendBytes int

	live      brokerkit.Live
	counters  brokerkit.Counters
	closed    atomic.Bool
	closeOnce sync.Once
}

// MaxUserIDLen is the longest user ID Publish accepts, wsmanager's own
// bound: no connection can have a longer one, and a subject over the NATS
// server's control-line limit would make the server drop the connection.
const MaxUserIDLen = brokerkit.MaxUserIDLen

// Stats are a snapshot of a Broker's counters, a plain value safe to copy;
// the zero value means nothing happened. Taking one reads atomics only: it
// never waits for a publish or a delivery, nor makes one wait.
type Stats struct {
	Published     uint64 // messages handed to NATS
	PublishErrors uint64 // Publish calls that failed, ErrDisconnected included
	Delivered     uint64 // messages passed to the subscriber
	Dropped       uint64 // messages dropped for this node because its deliveries fell behind
	Malformed     uint64 // messages under the prefix that no Broker published, dropped
	Reconnects    uint64 // times the connection to NATS was restored after it was lost
	Connected     bool   // as of the client's last connection event
}

var _ wsmanager.Broker = (*Broker)(nil)

// New returns a Broker on an existing connection, which the caller keeps
// owning: Close does not close it. New sets the connection's disconnect,
// reconnect and closed handlers to ones that also call those set before. Give the connection the reconnect options
// Connect uses so the broker survives NATS restarts.
func New(nc *nats.Conn, opts Options) (*Broker, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrInvalidOptions)
	}
	if err := validate(opts); err != nil {
		return nil, err
	}
	return newBroker(nc, false, opts), nil
}

// Connect dials NATS at url and returns a Broker that owns the connection.
// The connection reconnects forever, logs disconnects and reconnects, and
// does not buffer publishes while disconnected, so Publish reports
// ErrDisconnected instead of silently delaying. natsOpts are applied after
// these defaults and may override them.
func Connect(url string, opts Options, natsOpts ...nats.Option) (*Broker, error) {
	if err := validate(opts); err != nil {
		return nil, err
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
		nats.ErrorHandler(asyncErrorHandler(log)),
	}
	nc, err := nats.Connect(url, append(defaults, natsOpts...)...)
	if err != nil {
		if _, ok := errors.AsType[*neturl.Error](err); ok {
			return nil, brokerkit.MalformedURLError{Pkg: "natsbroker", Err: err}
		}
		return nil, fmt.Errorf("natsbroker: connect: %w", err)
	}
	return newBroker(nc, true, opts), nil
}

// asyncErrorHandler logs the connection's asynchronous errors through log,
// instead of nats.go's default, which prints them on standard output with
// the subscription's subject, and so the user it is for. It logs what
// happened, never the subject.
func asyncErrorHandler(log *slog.Logger) nats.ErrHandler {
	return func(_ *nats.Conn, _ *nats.Subscription, err error) {
		switch {
		case errors.Is(err, nats.ErrSlowConsumer):
			log.Warn("natsbroker: a subscription fell behind and NATS dropped messages for it (slow consumer)")
		case errors.Is(err, nats.ErrPermissionViolation):
			log.Error("natsbroker: NATS refused an operation: permissions violation")
		default:
			log.Warn("natsbroker: asynchronous NATS error", "kind", fmt.Sprintf("%T", err))
		}
	}
}

func prefixOrDefault(p string) string {
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// validate checks opts before any connection is made.
func validate(opts Options) error {
	if !validPrefix(prefixOrDefault(opts.Prefix)) {
		return fmt.Errorf("%w: prefix is not a literal NATS subject", ErrInvalidOptions)
	}
	if opts.PendingMessages < 0 || opts.PendingBytes < 0 {
		return fmt.Errorf("%w: negative pending limit", ErrInvalidOptions)
	}
	return nil
}

// newBroker builds a Broker from options validate accepted.
func newBroker(nc *nats.Conn, owned bool, opts Options) *Broker {
	b := &Broker{nc: nc, owned: owned, prefix: prefixOrDefault(opts.Prefix), pendMsgs: opts.PendingMessages, pendBytes: opts.PendingBytes}
	if b.pendMsgs == 0 {
		b.pendMsgs = nats.DefaultSubPendingMsgsLimit
	}
	if b.pendBytes == 0 {
		b.pendBytes = nats.DefaultSubPendingBytesLimit
	}
	if owned {
		b.released = make(chan struct{})
	}
	b.watch()
	return b
}

// watch makes the connection's events keep b.connected current, and
// b.released closed once an owned connection has closed, keeping any
// handler set before.
func (b *Broker) watch() {
	prevDisconnected, prevReconnected, prevClosed := b.nc.Opts.DisconnectedErrCB, b.nc.Opts.ReconnectedCB, b.nc.Opts.ClosedCB
	b.nc.SetDisconnectErrHandler(func(c *nats.Conn, err error) {
		b.counters.Connected.Store(false)
		if prevDisconnected != nil {
			prevDisconnected(c, err)
		}
	})
	b.nc.SetReconnectHandler(func(c *nats.Conn) {
		b.counters.Connected.Store(true)
		b.counters.Reconnects.Add(1)
		if prevReconnected != nil {
			prevReconnected(c)
		}
	})
	b.nc.SetClosedHandler(func(c *nats.Conn) {
		b.counters.Connected.Store(false)
		if b.released != nil {
			close(b.released)
		}
		if prevClosed != nil {
			prevClosed(c)
		}
	})
	// After the handlers, so that an event from now on overwrites this.
	b.counters.Connected.Store(b.nc.IsConnected())
}

// Publish sends msg on userID's subject. It returns ErrInvalidUser for an
// empty user ID or one longer than MaxUserIDLen, ErrDisconnected while the
// connection is down, and ErrClosed after Close; it does not wait for other
// nodes to receive the message.
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
	if err := b.ready(ctx); err != nil {
		return err
	}
	if err := b.nc.Publish(subject(b.prefix, userID), msg); err != nil {
		return sendError("publish", err)
	}
	return nil
}

// ready is what a publish or an append checks before sending: ctx still
// running, the Broker open, its connection up.
func (b *Broker) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	if !b.nc.IsConnected() {
		return ErrDisconnected
	}
	return nil
}

// sendError is the error of a publish or append (op) the NATS client
// refused: ErrDisconnected when the connection dropped between ready and
// the send, since the client refuses to buffer, as Connect configures it.
func sendError(op string, err error) error {
	if errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) {
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return fmt.Errorf("natsbroker: %s: %w", op, err)
}

// Subscribe delivers every message published under the prefix, by any
// node, to deliver, one at a time and in the order received, from a
// goroutine the subscription owns. The NATS client restores the
// subscription after a reconnect. unsubscribe stops deliveries and waits
// for one under way to finish.
func (b *Broker) Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if b.closed.Load() {
		return nil, ErrClosed
	}
	in := brokerkit.NewInbox(b.pendMsgs, b.pendBytes, &b.counters, deliver)
	sub, err := b.nc.Subscribe(b.prefix+".*", func(m *nats.Msg) {
		userID, ok := brokerkit.UserFromTopic(b.prefix, m.Subject)
		if !ok {
			// Counted, not logged: anyone who can publish under the prefix
			// could otherwise flood the log.
			b.counters.Malformed.Add(1)
			return
		}
		in.Put(userID, m.Data)
	})
	if err != nil {
		in.Stop()
		return nil, fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	fail := func(err error) (func() error, error) {
		_ = sub.Unsubscribe()
		in.Stop()
		return nil, err
	}
	// The Inbox bounds what waits; the client hands each message to it at
	// once, so the client's own limits would only add a second queue.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return fail(fmt.Errorf("natsbroker: subscribe: %w", err))
	}
	// Make sure the server has the subscription before returning, so that a
	// message published right after NewFactory is not missed.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil && b.nc.IsConnected() {
		return fail(fmt.Errorf("natsbroker: subscribe: %w", err))
	}
	if !b.live.Add(in) {
		return fail(ErrClosed)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			if e := sub.Unsubscribe(); e != nil && b.nc.Status() != nats.CLOSED {
				err = fmt.Errorf("natsbroker: unsubscribe: %w", e)
			}
			b.live.Remove(in)
			in.Stop()
		})
		return err
	}, nil
}

// Connected reports whether the connection to NATS is up, as of the
// client's last connection event, for health checks.
func (b *Broker) Connected() bool { return b.counters.Connected.Load() }

// Stats returns the counters.
func (b *Broker) Stats() Stats { return Stats(b.counters.Snapshot()) }

// Close makes Publish, Subscribe, SubscribeUsers and Interest.Add fail
// with ErrClosed, ends every subscription's and Interest's deliveries
// (waiting for one under way) and, for a Broker made by Connect, flushes
// and closes the connection and waits until the client has finished
// closing, or returns ctx.Err(). It is idempotent. Close the Factory
// first, so that it unsubscribes and stops sending before the broker goes.
func (b *Broker) Close(ctx context.Context) error {
	b.closed.Store(true)
	b.live.StopAll()
	if !b.owned {
		return nil
	}
	b.closeOnce.Do(func() {
		if b.nc.IsConnected() {
			_ = b.nc.FlushTimeout(time.Second)
		}
		b.nc.Close()
	})
	select {
	case <-b.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
