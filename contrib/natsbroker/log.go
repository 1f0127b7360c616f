package natsbroker

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// LogOptions configures a Log. The zero value is valid. ConnectLog and
// NewLog copy it.
//
// The stream's limits are the history's bounds: with a Log,
// wsmanager.HistoryOptions.Messages only needs to be positive to turn
// history on, and its Messages, Bytes and MaxAge do not apply. MessagesPerUser
// is the counterpart of HistoryOptions.Messages and MaxAge of
// HistoryOptions.MaxAge; JetStream has no byte limit per subject, so MaxBytes
// bounds the whole stream, every user's messages together. Every node of a
// cluster should have the same limits: each node that starts sets them on
// the stream.
type LogOptions struct {
	// Options are the Broker's: Prefix names the subjects (the stream's are
	// "<Prefix>.log.<base64url(userID)>"), Logger receives connection and
	// stream events, and PendingMessages and PendingBytes bound Subscribe
	// and SubscribeUsers, which a Factory without history uses.
	Options
	// Stream is the JetStream stream's name. Defaults to the prefix with
	// every character other than letters, digits, '-' and '_' replaced by
	// '_' ("ssot_wsmanager_user" for DefaultPrefix).
	Stream string
	// MessagesPerUser is how many messages the stream keeps per user
	// (JetStream's MaxMsgsPerSubject); past it, the user's oldest go first.
	// Defaults to DefaultMessagesPerUser.
	MessagesPerUser int
	// MaxBytes bounds the whole stream (JetStream's MaxBytes); past it, the
	// oldest messages of any user go first. Defaults to DefaultLogBytes.
	MaxBytes int64
	// MaxAge drops messages older than it (JetStream's MaxAge). Defaults to
	// 0: no age bound.
	MaxAge time.Duration
	// Replicas is how many servers of a JetStream cluster keep the stream.
	// Defaults to 1.
	Replicas int
	// Memory keeps the stream in the servers' memory instead of on disk:
	// a restart of the servers then loses the history, and every client
	// that resumes gets a reset. Defaults to false: file storage.
	Memory bool
	// AppendsInFlight bounds the appends sent and not yet acknowledged by
	// JetStream; past it, AppendAsync waits for room. Defaults to
	// DefaultAppendsInFlight.
	AppendsInFlight int
}

// Log is a wsmanager.Log over NATS JetStream: each user's stream of
// messages lives in one JetStream stream per prefix, shared by every node,
// so a client resumes on any node of the cluster, also after the node it
// was on has gone, and gets every message it missed exactly once, in order,
// or a reset when the stream no longer holds them. It is safe for
// concurrent use. The zero value is not usable; create a Log with
// ConnectLog or NewLog.
//
// A Log is a wsmanager.AsyncLog and a wsmanager.LogRouter, so a Factory
// with wsmanager.Options.History appends through AppendAsync, many
// appends in flight at once, and receives through SubscribeLogUsers only
// the messages of the users it holds, each as soon as JetStream has stored
// it, with its Position: Epoch names the stream (its creation time) and
// Seq is the JetStream stream sequence, one sequence for all users, so a
// connection sees increasing positions with gaps. After NATS restarts or
// the node reconnects, the node reads from the stream what its users' got
// meanwhile, after the last message it delivered for each; a message the
// stream evicted before then is not delivered live. SubscribeLog, which
// reads the whole stream through one consumer, serves callers that want
// every user's messages.
//
// A Factory without history uses Publish and SubscribeUsers, which are the
// Broker's: NATS core, at most once, on subjects apart from the stream's.
//
// What the Log does not do: it does not sign (wsmanager.Options.BrokerKey
// does, in the envelopes the Factory appends); an append whose
// acknowledgement is lost fails although the message may have been
// stored, and is then delivered; and a resume whose position may be
// older than what the stream still holds gets a reset even if none of the
// messages it missed were evicted (see Replay).
type Log struct {
	b           *Broker // Publish and Subscribe; the connection and the counters
	js          jetstream.JetStream
	stream      jetstream.Stream
	name        string
	subject     string // the prefix of the stream's subjects
	liveSubject string // the prefix of the subjects JetStream republishes them on
	config      jetstream.StreamConfig
	log         *slog.Logger
	epoch       atomic.Uint64 // the stream's epoch as last seen
	acks        *acker
	keeper      *keeper
}

var _ wsmanager.Log = (*Log)(nil)

// ConnectLog dials NATS at url, as Connect does, and returns a Log that owns
// the connection, after creating its stream or updating the stream's
// limits to opts'. It returns an error wrapping ErrInvalidOptions for
// invalid options, and the JetStream error (JetStream not enabled on the
// server, a stream of that name with other subjects) if the stream cannot
// be set up; no error quotes url.
func ConnectLog(url string, opts LogOptions, natsOpts ...nats.Option) (*Log, error) {
	if err := validateLog(opts); err != nil {
		return nil, err
	}
	b, err := Connect(url, opts.Options, natsOpts...)
	if err != nil {
		return nil, err
	}
	l, err := newLog(b, opts)
	if err != nil {
		_ = b.Close(context.Background())
		return nil, err
	}
	return l, nil
}

// NewLog returns a Log on an existing connection, which the caller keeps
// owning, as New does, after creating its stream or updating the stream's
// limits to opts'. Once the Log has appended, the NATS client keeps
// goroutines of its own for asynchronous publishing on the connection (a
// subscription to the acknowledgements, a watch of the connection's state)
// until the connection is closed, after Close too.
func NewLog(nc *nats.Conn, opts LogOptions) (*Log, error) {
	if err := validateLog(opts); err != nil {
		return nil, err
	}
	b, err := New(nc, opts.Options)
	if err != nil {
		return nil, err
	}
	return newLog(b, opts)
}

// validateLog checks opts before any connection is made.
func validateLog(opts LogOptions) error {
	if err := validate(opts.Options); err != nil {
		return err
	}
	switch {
	case !validStreamName(streamName(opts)):
		return fmt.Errorf("%w: stream name is not a valid JetStream stream name", ErrInvalidOptions)
	case opts.MessagesPerUser < 0, opts.MaxBytes < 0, opts.MaxAge < 0:
		return fmt.Errorf("%w: negative stream limit", ErrInvalidOptions)
	case opts.Replicas < 0 || opts.Replicas > 5:
		return fmt.Errorf("%w: Replicas is negative or over 5", ErrInvalidOptions)
	case opts.AppendsInFlight < 0:
		return fmt.Errorf("%w: negative AppendsInFlight", ErrInvalidOptions)
	}
	return nil
}

// newLog sets up the stream for a Broker made from opts.
func newLog(b *Broker, opts LogOptions) (*Log, error) {
	inFlight := opts.AppendsInFlight
	if inFlight == 0 {
		inFlight = DefaultAppendsInFlight
	}
	js, err := jetstream.New(b.nc, jetstream.WithPublishAsyncMaxPending(inFlight), jetstream.WithPublishAsyncTimeout(ackTimeout))
	if err != nil {
		return nil, fmt.Errorf("natsbroker: jetstream: %w", err)
	}
	l := &Log{b: b, js: js, name: streamName(opts), subject: b.prefix + "." + logToken, liveSubject: b.prefix + "." + liveToken, log: opts.Logger}
	if l.log == nil {
		l.log = slog.Default()
	}
	l.config = streamConfig(opts, l.name, b.prefix)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if l.stream, err = l.ensureStream(ctx); err != nil {
		return nil, err
	}
	l.acks = newAcker(l, inFlight)
	l.keeper = newKeeper(l)
	return l, nil
}

// ensureStream creates the stream, or updates an existing one's limits,
// and notes its epoch. The handle it returns names the stream and stays
// valid if the stream is created again.
func (l *Log) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	s, err := l.js.CreateOrUpdateStream(ctx, l.config)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: stream %q: %w", l.name, err)
	}
	if _, err := l.noteEpoch(s.CachedInfo()); err != nil {
		return nil, err
	}
	return s, nil
}

// noteEpoch returns the epoch of the stream info describes and remembers it
// as the stream's.
func (l *Log) noteEpoch(info *jetstream.StreamInfo) (uint64, error) {
	e, err := epochOf(info)
	if err != nil {
		return 0, err
	}
	l.epoch.Store(e)
	return e, nil
}

// subjectOf returns userID's subject in the stream.
func (l *Log) subjectOf(userID string) string { return brokerkit.Topic(l.subject, userID) }

// liveSubjectOf returns the subject JetStream republishes userID's
// messages on.
func (l *Log) liveSubjectOf(userID string) string { return brokerkit.Topic(l.liveSubject, userID) }

// Publish is Broker.Publish: NATS core, for a Factory without history.
func (l *Log) Publish(ctx context.Context, userID string, msg []byte) error {
	return l.b.Publish(ctx, userID, msg)
}

// Subscribe is Broker.Subscribe: NATS core, every user's messages.
func (l *Log) Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error) {
	return l.b.Subscribe(deliver)
}

// Connected reports whether the connection to NATS is up, as of the
// client's last connection event, for health checks.
func (l *Log) Connected() bool { return l.b.Connected() }

// Stats returns the counters, shared by both paths: Published also counts
// the messages JetStream acknowledged to AppendAsync and Append,
// PublishErrors the appends refused or not stored, Delivered what
// SubscribeLog and SubscribeLogUsers handed on, Dropped the stream's
// messages evicted before SubscribeLog read them, and Malformed the
// messages that Append did not write (a subject or thread header it does
// not make) and those on the live subjects that JetStream did not
// republish.
func (l *Log) Stats() Stats { return l.b.Stats() }

// Stream returns the name of the JetStream stream.
func (l *Log) Stream() string { return l.name }

// Close makes every method fail with ErrClosed and waits, as long as ctx
// allows, for the appends in flight to be acknowledged (those still
// unanswered then get ErrClosed); then it ends every subscription's and
// Interest's deliveries (waiting for one under way), deletes their
// consumers, and closes as Broker.Close does. It is idempotent. Close the
// Factory first.
func (l *Log) Close(ctx context.Context) error {
	l.b.closed.Store(true)
	l.acks.close(ctx)
	l.keeper.close()
	return l.b.Close(ctx) // the Log's subscriptions are among the Broker's
}

// SubscribeUsers is Broker.SubscribeUsers: NATS core, for a Factory
// without history.
func (l *Log) SubscribeUsers(deliver func(userID string, msg []byte)) (wsmanager.Interest, error) {
	return l.b.SubscribeUsers(deliver)
}

var _ wsmanager.Router = (*Log)(nil)
