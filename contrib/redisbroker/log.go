package redisbroker

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// LogOptions configures a Log. The zero value is valid; NewLog copies it.
//
// These limits are the history's bounds: with a Log,
// wsmanager.HistoryOptions.Messages only needs to be positive to turn
// history on, and its Messages, Bytes and MaxAge do not apply. Every node
// of a cluster should have the same limits: each append applies its node's.
type LogOptions struct {
	// MessagesPerUser is how many messages a user's stream keeps, about:
	// the stream is trimmed with XADD's MAXLEN ~, which lets Redis keep a
	// few more until it can drop a whole node of its storage. Defaults to
	// DefaultMessagesPerUser; negative is ErrInvalidOptions.
	MessagesPerUser int
	// MaxAge drops messages older than it, about (XTRIM MINID ~, by the
	// time in the entries' IDs), and lets a user's stream and epoch expire
	// MaxAge after the last append. Defaults to 0: no age bound; negative,
	// or under a millisecond, is ErrInvalidOptions.
	MaxAge time.Duration
}

// DefaultMessagesPerUser is LogOptions.MessagesPerUser's default.
const DefaultMessagesPerUser = 1000

// Log is a wsmanager.Log on Redis Streams, which routes its live
// deliveries by interest (wsmanager.LogRouter) and pipelines its appends
// (wsmanager.AsyncLog). Each user's messages are one stream, shared by
// every node, so a client resumes on any node, also after the node it was
// on has gone, and gets every message it missed exactly once, in order,
// or a reset when the stream no longer holds them. It is safe for
// concurrent use. The zero value is not usable; create a Log with NewLog.
//
// A user's stream is the key "{<Prefix>.log.<base64url(userID)>}.stream",
// and its epoch is kept in the hash "{<Prefix>.log.<base64url(userID)>}.epoch"
// beside it. An append is one Lua script that adds the entry (fields t, the
// thread, and m, the envelope) and then publishes it, with its position,
// on the user's live channel "<Prefix>.log.<base64url(userID)>": a message
// reaches a node only once it is stored. In a Redis Cluster the two keys
// and the channel share a hash slot, so the script runs on one master and
// publishes with SPUBLISH.
//
// Position.Epoch names one incarnation of a user's stream: a new, random
// epoch is chosen when the stream has none (a Replay of a user with no
// stream yet leaves the hash, with the epoch, for the first append; with
// MaxAge it expires as the stream does), or when the stream is gone
// although messages were appended to it (deleted, evicted, expired).
// Position.Seq is the entry's ID, "<ms>-<seq>", as ms<<20 | seq: it
// increases along the stream, with gaps. An append that would make an ID
// whose seq part does not fit in 20 bits (over a million entries of one
// user in one millisecond) is refused.
//
// A Factory without history uses Publish, Subscribe and SubscribeUsers,
// which are the Broker's: publish/subscribe, at most once, on channels
// apart from the Log's.
type Log struct {
	b       *Broker
	prefix  string // of the live channels: "<Prefix>.log"
	maxLen  string
	maxAge  int64 // milliseconds; 0 for none
	pubCmd  string
	appends *appender
	// The scripts: appendSHA is the append script's SHA1 digest, the name
	// EVALSHA knows it by.
	appendSHA  string
	headScript *redis.Script
}

var (
	_ wsmanager.Log       = (*Log)(nil)
	_ wsmanager.LogRouter = (*Log)(nil)
	_ wsmanager.AsyncLog  = (*Log)(nil)
)

// NewLog returns a Log on b's Redis (standalone or Cluster) and prefix,
// and takes b over: Log.Close closes it. Appends share b's bounds on the
// messages on their way to Redis (Options.PublishQueue and
// PublishQueueBytes), apart from b's own. It loads the Log's scripts on
// every master and returns ErrInvalidOptions for invalid options, a
// prefix holding '{' or '}' (which would split a user's keys and channel
// across hash slots), or Redis's error if it cannot load them (wrapping
// ErrDisconnected if Redis cannot be reached).
func NewLog(b *Broker, opts LogOptions) (*Log, error) {
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: nil Broker", ErrInvalidOptions)
	case opts.MessagesPerUser < 0, opts.MaxAge < 0, opts.MaxAge > 0 && opts.MaxAge < time.Millisecond:
		return nil, fmt.Errorf("%w: negative limit, or MaxAge under a millisecond", ErrInvalidOptions)
	case strings.ContainsAny(b.prefix, "{}"):
		return nil, fmt.Errorf("%w: a Log's prefix holds '{' or '}'", ErrInvalidOptions)
	}
	if opts.MessagesPerUser == 0 {
		opts.MessagesPerUser = DefaultMessagesPerUser
	}
	l := &Log{
		b:      b,
		prefix: b.prefix + ".log",
		maxLen: strconv.Itoa(opts.MessagesPerUser),
		maxAge: opts.MaxAge.Milliseconds(),
		pubCmd: "PUBLISH",

		appendSHA:  digest(appendLua),
		headScript: redis.NewScript(headLua),
	}
	if b.cluster != nil {
		l.pubCmd = "SPUBLISH"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.loadScripts(ctx); err != nil {
		return nil, fmt.Errorf("redisbroker: load the Log's scripts: %w", classify(err))
	}
	l.appends = newAppender(l, b.opts)
	return l, nil
}

func digest(script string) string {
	sum := sha1.Sum([]byte(script))
	return hex.EncodeToString(sum[:])
}

// loadScripts loads the scripts on every master, so that EVALSHA finds
// them.
func (l *Log) loadScripts(ctx context.Context) error {
	load := func(ctx context.Context, c *redis.Client) error {
		for _, s := range []string{appendLua, headLua} {
			if err := c.ScriptLoad(ctx, s).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if l.b.cluster != nil {
		return l.b.cluster.ForEachMaster(ctx, load)
	}
	return load(ctx, l.b.single)
}

// keys returns userID's live channel and the keys of its stream and epoch.
func (l *Log) keys(userID string) (channel string, keys []string) {
	channel = brokerkit.Topic(l.prefix, userID)
	return channel, []string{"{" + channel + "}.stream", "{" + channel + "}.epoch"}
}

// epochCandidate is the epoch a stream gets if it needs a new one: random,
// odd so never 0.
func epochCandidate() string { return strconv.FormatUint(rand.Uint64()|1, 10) }

// Append stores msg in userID's stream, with threadID, publishes it to the
// nodes subscribed to the user, and returns its position once Redis has
// answered. It is AppendAsync, waiting: it returns ctx.Err() if ctx ends
// first (the message may then be stored all the same), and AppendAsync's
// errors.
func (l *Log) Append(ctx context.Context, userID, threadID string, msg []byte) (wsmanager.Position, error) {
	type result struct {
		pos wsmanager.Position
		err error
	}
	done := make(chan result, 1)
	if err := l.AppendAsync(ctx, userID, threadID, msg, func(pos wsmanager.Position, err error) { done <- result{pos, err} }); err != nil {
		return wsmanager.Position{}, err
	}
	select {
	case r := <-done:
		return r.pos, r.err
	case <-ctx.Done():
		return wsmanager.Position{}, ctx.Err()
	}
}

// AppendAsync hands msg to the Log for userID's stream, with threadID,
// and returns once it is queued; one goroutine of the Log sends what is
// queued in pipelines of EVALSHA, many appends to a round trip, in the
// order AppendAsync accepted them, and calls each done, in that order,
// with the message's position once Redis has stored it or with the error
// that kept it from being stored. An append whose reply is lost (the
// connection failed) may have been stored all the same; it is never sent
// twice. One case breaks the order: if Redis forgets the Log's scripts
// (SCRIPT FLUSH) and another client loads them again between two appends
// of one pipeline, the first is sent again, as EVAL, after the second.
//
// It returns, and never calls done, ErrInvalidUser for an empty user ID
// or a user or thread ID longer than MaxUserIDLen, ErrClosed once Close has
// begun, ctx's error if ctx has ended, and ErrQueueFull wrapping ctx's
// error if ctx ends while Options.PublishQueue or PublishQueueBytes is
// reached. Stats.Published counts the appends Redis stored and
// PublishErrors the others.
func (l *Log) AppendAsync(ctx context.Context, userID, threadID string, msg []byte, done func(wsmanager.Position, error)) error {
	err := l.acceptAppend(ctx, userID, threadID, msg, done)
	if err != nil {
		l.b.counters.PublishErrors.Add(1)
	}
	return err
}

func (l *Log) acceptAppend(ctx context.Context, userID, threadID string, msg []byte, done func(wsmanager.Position, error)) error {
	switch {
	case !brokerkit.ValidUser(userID) || len(threadID) > MaxUserIDLen:
		return ErrInvalidUser
	case done == nil:
		return fmt.Errorf("%w: nil done function", ErrInvalidOptions)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.appends.put(ctx, pendingAppend{userID: userID, threadID: threadID, msg: msg, done: done})
}

// Publish is Broker.Publish: publish/subscribe, for a Factory without
// history.
func (l *Log) Publish(ctx context.Context, userID string, msg []byte) error {
	return l.b.Publish(ctx, userID, msg)
}

// Subscribe is Broker.Subscribe, for a Factory without history.
func (l *Log) Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error) {
	return l.b.Subscribe(deliver)
}

// SubscribeUsers is Broker.SubscribeUsers, for a Factory without history.
func (l *Log) SubscribeUsers(deliver func(userID string, msg []byte)) (wsmanager.Interest, error) {
	return l.b.SubscribeUsers(deliver)
}

// Connected reports whether the last exchange with Redis succeeded, as
// Broker.Connected does, appends included.
func (l *Log) Connected() bool { return l.b.Connected() }

// Stats returns the counters, shared with the Broker: Published also
// counts the appends Redis stored, PublishErrors the appends refused or
// not stored, Delivered what the Log's subscriptions handed on, Dropped
// what they dropped while the subscriber fell behind, and the users whose
// streams lost messages before this node could catch up on them (one per
// user and catch-up), and Malformed the messages on the Log's channels
// that its append script did not publish.
func (l *Log) Stats() Stats { return l.b.Stats() }

// Close makes every method fail with ErrClosed, stores the appends
// accepted and not yet sent, calling their done, ends every subscription
// (waiting for a delivery under way) and closes the Broker. It waits until
// that is done or returns ctx.Err(): the appends not yet sent then never
// are, and their done gets ErrClosed. It is idempotent. Close the Factory
// first.
func (l *Log) Close(ctx context.Context) error {
	l.appends.close()
	done := make(chan struct{})
	go func() { // ends once the appender has
		defer close(done)
		l.appends.wait()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		l.appends.abandon()
		<-done
	}
	return l.b.Close(ctx)
}
