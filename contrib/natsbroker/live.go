package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// The headers JetStream adds to a message it republishes.
const (
	hdrStream  = "Nats-Stream"
	hdrSubject = "Nats-Subject"
	hdrSeq     = "Nats-Sequence"
	hdrPrevSeq = "Nats-Last-Sequence" // the sequence of the subject's message before this one
	hdrStored  = "Nats-Time-Stamp"    // when it was stored, RFC 3339 with nanoseconds, UTC
)

// catchUpFilters is how many users' subjects one consumer reads when an
// Interest catches up after a reconnect.
const catchUpFilters = 256

// catchUpTries is how many times an Interest reads a user's missed
// messages from the stream, retryWait apart, before it delivers what came
// live without them.
const catchUpTries = 10

var _ wsmanager.LogRouter = (*Log)(nil)

// SubscribeLogUsers returns an Interest, empty, through which this node
// is handed, as JetStream stores them, the messages of the users it adds,
// and no others. JetStream republishes every message it stores on
// "<prefix>.live.<base64url(userID)>" (the stream's RePublish), and
// Interest.Add subscribes to the user's, so a message reaches a node only
// once it is stored.
//
// deliver is called one message at a time, in stream order, from a
// goroutine the Interest owns, with the message's thread and position. For
// each user the positions increase: a message is never handed on twice.
// A republished message says which message of its user came before it;
// when that one was not delivered (the connection was down, or the NATS
// client dropped it while the Interest fell behind), the Interest reads
// the missed messages from the stream and delivers them first. After the
// connection to NATS is restored it does the same for every user added,
// without waiting for their next message. A message the stream no longer
// holds by then is not delivered. Messages on the live subjects that
// JetStream did not republish from this stream, or that Append did not
// write, are counted in Stats.Malformed and not delivered. Interest.Close
// stops deliveries and waits for one under way to finish.
func (l *Log) SubscribeLogUsers(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) (wsmanager.Interest, error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if l.b.closed.Load() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &logInterest{
		l:         l,
		deliver:   deliver,
		subs:      newUserSubs(l.b.nc, l.liveSubjectOf, hopMessages, nil),
		last:      map[string]position{},
		reconnect: l.b.nc.StatusChanged(nats.CONNECTED),
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	if !l.b.live.Add(in) {
		l.b.nc.RemoveStatusListener(in.reconnect)
		cancel()
		return nil, ErrClosed
	}
	go in.run()
	return in, nil
}

// position is the stream sequence of the last message delivered for a
// user, or of the user's last message stored when the user was added, in
// the stream's epoch then, with the time it was stored (as JetStream
// writes it in hdrStored; "" if unknown).
type position struct {
	epoch, seq uint64
	stored     string
}

// logInterest is the Interest of SubscribeLogUsers.
type logInterest struct {
	l         *Log
	deliver   func(userID, threadID string, pos wsmanager.Position, msg []byte)
	subs      *userSubs
	reconnect chan nats.Status

	mu   sync.Mutex
	last map[string]position // of each user added

	ctx    context.Context // ended by Stop
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

// Add subscribes to userID's live subject and returns once the NATS server
// has the subscription. It first reads the sequence of the user's last
// message in the stream, so that the first message delivered shows
// whether one before it was missed. It returns ErrInvalidUser for an
// invalid user ID, ErrDisconnected while the connection is down, ctx's
// error if ctx ends first, ErrClosed after Close, and the JetStream error
// if the stream does not answer.
func (in *logInterest) Add(ctx context.Context, userID string) error {
	if !brokerkit.ValidUser(userID) {
		return ErrInvalidUser
	}
	if err := in.l.b.ready(ctx); err != nil {
		return err
	}
	p := position{epoch: in.l.epoch.Load()}
	m, err := in.l.stream.GetLastMsgForSubject(ctx, in.l.subjectOf(userID))
	switch {
	case err == nil:
		p.seq, p.stored = m.Sequence, stamp(m.Time)
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("natsbroker: add: %w", err)
	}
	in.mu.Lock()
	in.last[userID] = p
	in.mu.Unlock()
	if err := in.subs.add(ctx, userID); err != nil {
		in.forget(userID)
		return err
	}
	return nil
}

// Remove unsubscribes from userID's live subject without waiting for the
// server; nothing more is delivered for userID.
func (in *logInterest) Remove(userID string) error {
	err := in.subs.remove(userID)
	in.forget(userID)
	return err
}

func (in *logInterest) forget(userID string) {
	in.mu.Lock()
	delete(in.last, userID)
	in.mu.Unlock()
}

// Close unsubscribes from every user, stops deliveries and waits for one
// under way. It is idempotent.
func (in *logInterest) Close() error {
	in.l.b.live.Remove(in)
	in.Stop()
	return nil
}

// Stop is Close, for the Log's Close.
func (in *logInterest) Stop() {
	in.subs.close()
	in.cancel()
	<-in.done
}

// run delivers what the subscriptions receive, and what the stream holds
// that they missed, until Stop.
func (in *logInterest) run() {
	defer close(in.done)
	defer in.l.b.nc.RemoveStatusListener(in.reconnect)
	for {
		select {
		case <-in.ctx.Done():
			return
		case m := <-in.subs.ch:
			in.receive(m)
		case <-in.reconnect:
			in.catchUpAll()
		}
	}
}

// receive delivers a republished message, after the messages of its user
// that came before it and were missed.
func (in *logInterest) receive(m *nats.Msg) {
	l := in.l
	r, ok := parseRepublished(l.name, l.subject, l.liveSubject, m.Subject, m.Header)
	if !ok {
		l.b.counters.Malformed.Add(1)
		return
	}
	userID, seq, prev := r.userID, r.seq, r.prev
	stored := m.Header.Get(hdrStored)
	last, added := in.position(userID)
	if !added {
		return // removed since
	}
	if seq <= last.seq && later(stored, last.stored) {
		// Stored after the last delivered, at a lower sequence: the stream
		// was created again, maybe by another node.
		last = in.refresh(userID, last)
	}
	if prev > last.seq {
		last = in.catchUp(userID, last)
	}
	if seq <= last.seq {
		return // delivered already, read from the stream
	}
	thread, tok := threadOf(m.Header)
	in.hand(userID, thread, tok, position{last.epoch, seq, stored}, m.Data)
}

// republished is what a message JetStream republished says of itself.
type republished struct {
	userID    string
	seq, prev uint64 // its stream sequence, and its user's message's before it (0: none)
}

// parseRepublished reads what JetStream wrote on a message it republished
// from the stream named stream, of subjects under prefix, on subject under
// livePrefix; it reports false for a message JetStream did not republish
// so: headers missing or malformed, another stream, or a stream subject
// of another user than the live subject's.
func parseRepublished(stream, prefix, livePrefix, subject string, h nats.Header) (republished, bool) {
	userID, ok := brokerkit.UserFromTopic(livePrefix, subject)
	seq, err := strconv.ParseUint(h.Get(hdrSeq), 10, 64)
	prev, perr := strconv.ParseUint(h.Get(hdrPrevSeq), 10, 64)
	// The stream's subject of the message, of which JetStream made
	// subject: the same user token after the stream's prefix.
	from, sok := strings.CutPrefix(h.Get(hdrSubject), prefix)
	token := subject[strings.LastIndexByte(subject, '.')+1:]
	if !ok || err != nil || perr != nil || seq == 0 || prev >= seq || h.Get(hdrStream) != stream ||
		!sok || len(from) != 1+len(token) || from[0] != '.' || from[1:] != token {
		return republished{}, false
	}
	return republished{userID, seq, prev}, true
}

// refresh reads the stream's epoch and returns userID's position in it:
// last, or none yet if the epoch is new.
func (in *logInterest) refresh(userID string, last position) position {
	ctx, cancel := context.WithTimeout(in.ctx, setupTimeout)
	defer cancel()
	info, err := in.l.stream.Info(ctx)
	if err != nil {
		in.l.log.Warn("natsbroker: the stream cannot be read", "stream", in.l.name, "err", err)
		return last
	}
	if _, err := in.l.noteEpoch(info); err != nil {
		return last
	}
	p, _ := in.position(userID)
	return p
}

// stamp writes t as JetStream writes hdrStored.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// later reports whether the stored time a is after b; false if either
// does not parse.
func later(a, b string) bool {
	ta, err := time.Parse(time.RFC3339Nano, a)
	if err != nil {
		return false
	}
	tb, err := time.Parse(time.RFC3339Nano, b)
	return err == nil && ta.After(tb)
}

// position returns the position of userID's last message delivered, in
// the stream's current epoch, and whether userID is added.
func (in *logInterest) position(userID string) (position, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	p, ok := in.last[userID]
	if epoch := in.l.epoch.Load(); ok && p.epoch != epoch {
		// The stream was created again: its sequences start over.
		p = position{epoch: epoch}
		in.last[userID] = p
	}
	return p, ok
}

// hand delivers a message at pos, or counts it in Stats.Malformed if its
// thread header did not parse (threadOK false), and records pos as its
// user's last, if the user is still added.
func (in *logInterest) hand(userID, thread string, threadOK bool, pos position, data []byte) {
	in.mu.Lock()
	_, ok := in.last[userID]
	if ok {
		in.last[userID] = pos
	}
	in.mu.Unlock()
	switch {
	case !ok:
		return
	case !threadOK:
		in.l.b.counters.Malformed.Add(1)
		return
	}
	in.l.b.counters.Delivered.Add(1)
	in.deliver(userID, thread, wsmanager.Position{Epoch: pos.epoch, Seq: pos.seq}, data)
}

// catchUp delivers userID's messages stored after last, and returns the
// position of the last delivered.
func (in *logInterest) catchUp(userID string, last position) position {
	in.catchUpUsers(map[string]position{userID: last})
	p, _ := in.position(userID)
	return p
}

// catchUpAll delivers, for every user added, the messages stored after the
// last delivered.
func (in *logInterest) catchUpAll() {
	in.mu.Lock()
	users := maps.Clone(in.last)
	in.mu.Unlock()
	for chunk := range slices.Chunk(slices.Collect(maps.Keys(users)), catchUpFilters) {
		part := make(map[string]position, len(chunk))
		for _, u := range chunk {
			part[u] = users[u]
		}
		in.catchUpUsers(part)
	}
}

// catchUpUsers reads the stream, from the oldest of users' positions on,
// for users' subjects, and delivers to each user what comes after its
// position, trying again retryWait apart while the stream cannot be read.
func (in *logInterest) catchUpUsers(users map[string]position) {
	l := in.l
	start := uint64(0)
	filters := make([]string, 0, len(users))
	epoch := l.epoch.Load()
	for u, p := range users {
		if p.epoch != epoch {
			p = position{epoch: epoch}
			users[u] = p
		}
		if start == 0 || p.seq+1 < start {
			start = p.seq + 1
		}
		filters = append(filters, l.subjectOf(u))
	}
	for try := 1; ; try++ {
		err := l.scan(in.ctx, start, filters, func(seq uint64, m jetstream.Msg) bool {
			// The filters are users' subjects: the subject decodes.
			userID, _ := brokerkit.UserFromTopic(l.subject, m.Subject())
			if p, added := in.position(userID); added && seq > p.seq {
				var stored string
				if meta, err := m.Metadata(); err == nil {
					stored = stamp(meta.Timestamp)
				}
				thread, tok := threadOf(m.Headers())
				in.hand(userID, thread, tok, position{p.epoch, seq, stored}, m.Data())
			}
			return true
		})
		if err == nil || in.ctx.Err() != nil {
			return
		}
		if try == catchUpTries {
			l.log.Warn("natsbroker: the missed messages cannot be read from the stream; delivering on without them", "stream", l.name, "err", err)
			return
		}
		select {
		case <-in.ctx.Done():
			return
		case <-time.After(retryWait):
		}
	}
}
