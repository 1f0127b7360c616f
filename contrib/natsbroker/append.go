package natsbroker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// DefaultAppendsInFlight is LogOptions.AppendsInFlight's default.
const DefaultAppendsInFlight = 1024

// ackTimeout is how long an append waits for JetStream's acknowledgement
// before its done function gets jetstream.ErrAsyncPublishTimeout.
const ackTimeout = 10 * time.Second

var _ wsmanager.AsyncLog = (*Log)(nil)

// Append stores msg on userID's subject, with threadID, and returns its
// position once JetStream has acknowledged it. It is AppendAsync waiting
// for the acknowledgement, or for ctx to end (the message may then still
// be stored). It returns ErrInvalidUser for an empty user ID or a user or
// thread ID longer than MaxUserIDLen, ErrDisconnected while the connection
// is down, ErrClosed after Close, and the JetStream error if the stream
// refuses the message or does not answer (an unanswered Append may still
// have been stored).
func (l *Log) Append(ctx context.Context, userID, threadID string, msg []byte) (wsmanager.Position, error) {
	type result struct {
		pos wsmanager.Position
		err error
	}
	res := make(chan result, 1)
	err := l.AppendAsync(ctx, userID, threadID, msg, func(pos wsmanager.Position, err error) { res <- result{pos, err} })
	if err != nil {
		return wsmanager.Position{}, err
	}
	select {
	case r := <-res:
		return r.pos, r.err
	case <-ctx.Done():
		return wsmanager.Position{}, ctx.Err()
	}
}

// AppendAsync sends msg to the stream on userID's subject, with threadID,
// and returns once it is sent, without waiting for JetStream to store it,
// when fewer than LogOptions.AppendsInFlight appends await their
// acknowledgement; otherwise it waits for room, as long as ctx allows. It
// returns the errors Append returns for a message it does not accept, and
// then never calls done. For an accepted message, done is called exactly
// once, from a goroutine of the Log, in the order AppendAsync accepted the
// messages: with the message's position once JetStream acknowledged it,
// or with the error that kept it from being stored (the stream refused it,
// the connection dropped, no acknowledgement came in time, or Close ended
// the wait), which is counted in Stats.PublishErrors. The
// messages of one connection reach the stream in the order they were sent,
// so the messages accepted for one user are stored in the order
// AppendAsync accepted them. done must not block.
func (l *Log) AppendAsync(ctx context.Context, userID, threadID string, msg []byte, done func(wsmanager.Position, error)) error {
	if err := l.appendAsync(ctx, userID, threadID, msg, done); err != nil {
		l.b.counters.PublishErrors.Add(1)
		return err
	}
	return nil
}

func (l *Log) appendAsync(ctx context.Context, userID, threadID string, msg []byte, done func(wsmanager.Position, error)) error {
	switch {
	case done == nil:
		return fmt.Errorf("%w: nil done function", ErrInvalidOptions)
	case !brokerkit.ValidUser(userID) || len(threadID) > MaxUserIDLen:
		return ErrInvalidUser
	}
	if err := l.b.ready(ctx); err != nil {
		return err
	}
	m := &nats.Msg{Subject: l.subjectOf(userID), Data: msg}
	setThread(m, threadID)
	return l.acks.send(ctx, m, done)
}

// pending is an append awaiting its acknowledgement.
type pending struct {
	ack  jetstream.PubAckFuture
	done func(wsmanager.Position, error)
}

// acker sends a Log's appends and hands each its acknowledgement, in
// order, from one goroutine, which Log.Close stops and waits for. Its
// methods are safe for concurrent use.
type acker struct {
	l     *Log
	room  chan struct{} // one token per append in flight
	queue chan pending  // as many as room holds: sending never waits

	mu     sync.Mutex // held while sending, so that queue's order is the stream's
	closed bool       // queue is closed

	stop chan struct{} // closed to fail what still waits
	done chan struct{} // closed when run returns
	once sync.Once

	// lastSeq is the stream sequence of the last acknowledgement, read and
	// written by run alone: a sequence that goes back means the stream
	// was created again since, as a new epoch.
	lastSeq uint64
}

func newAcker(l *Log, inFlight int) *acker {
	a := &acker{
		l:     l,
		room:  make(chan struct{}, inFlight),
		queue: make(chan pending, inFlight),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go a.run()
	return a
}

// send waits for room, as long as ctx allows, and sends m.
func (a *acker) send(ctx context.Context, m *nats.Msg, done func(wsmanager.Position, error)) error {
	select {
	case a.room <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-a.stop:
		return ErrClosed
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		<-a.room
		return ErrClosed
	}
	// No retry after "no responders": a retried message would be stored
	// after those sent behind it.
	ack, err := a.l.js.PublishMsgAsync(m, jetstream.WithRetryAttempts(0))
	if err != nil {
		<-a.room
		return sendError("append", err)
	}
	a.queue <- pending{ack, done}
	return nil
}

// run hands each append its acknowledgement, in the order sent, until
// close has been called and the queue is empty.
func (a *acker) run() {
	defer close(a.done)
	for p := range a.queue {
		pos, err := a.wait(p.ack)
		<-a.room
		if err != nil {
			a.l.b.counters.PublishErrors.Add(1)
		} else {
			a.l.b.counters.Published.Add(1)
		}
		p.done(pos, err)
	}
}

// wait returns the position JetStream acknowledged, or why it did not.
func (a *acker) wait(f jetstream.PubAckFuture) (wsmanager.Position, error) {
	select {
	case ack := <-f.Ok():
		if ack.Stream != a.l.name {
			return wsmanager.Position{}, fmt.Errorf("natsbroker: append: stored by stream %q, not %q", ack.Stream, a.l.name)
		}
		if ack.Sequence <= a.lastSeq {
			a.refreshEpoch()
		}
		a.lastSeq = ack.Sequence
		return wsmanager.Position{Epoch: a.l.epoch.Load(), Seq: ack.Sequence}, nil
	case err := <-f.Err():
		a.l.ackFailed(err)
		return wsmanager.Position{}, sendError("append", err)
	case <-a.stop:
		return wsmanager.Position{}, ErrClosed
	}
}

// refreshEpoch reads the epoch of the stream as it is now, after an
// acknowledgement showed it was created again: so that the position handed
// to done names the history that holds the message, whoever created it.
// If the stream cannot be read, the epoch last seen stays.
func (a *acker) refreshEpoch() {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if info, err := a.l.stream.Info(ctx); err == nil {
		_, _ = a.l.noteEpoch(info)
	}
}

// close refuses new appends and waits, as long as ctx allows, for those
// in flight to be acknowledged; those still waiting then get ErrClosed.
// It returns once run has returned. It is idempotent.
func (a *acker) close(ctx context.Context) {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
	}
	a.once.Do(func() { close(a.stop) })
	<-a.done
}
