package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// Pull settings of a node's consumer: how many messages wait in the client,
// and how often the server shows it is alive while there are none, so that
// a consumer lost with a server (or a connection) is noticed within two
// heartbeats and made again.
const (
	livePending   = 1024
	liveExpiry    = 10 * time.Second
	liveHeartbeat = time.Second
	// retryWait is how long a node waits before making its consumer again
	// after it failed, so that a server that is down is not asked in a
	// tight loop.
	retryWait = 250 * time.Millisecond
)

// errGap ends a consumer whose deliveries skipped one: the node makes a
// new one, from the message after the last it delivered.
const errGap = sentinel("natsbroker: the consumer skipped a delivery")

// SubscribeLog delivers every message stored in the stream from now on, by
// any node, to deliver, one at a time and in stream order, with its
// position, from a goroutine the subscription owns. It reads through an
// ephemeral consumer of its own; when that consumer is lost (NATS
// restarted, the connection was down, a delivery was skipped) it makes a
// new one from the message after the last it delivered, so that none is
// missed while the stream holds it. A stream deleted meanwhile is created
// again, as a new epoch, and delivered from its first message. Messages
// under the stream's subjects that Append did not write are counted in
// Stats.Malformed and not delivered. unsubscribe stops deliveries, waits
// for one under way to finish, and deletes the consumer.
func (l *Log) SubscribeLog(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) (unsubscribe func() error, err error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if l.b.closed.Load() {
		return nil, ErrClosed
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &logSub{l: l, deliver: deliver, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	setup, stop := context.WithTimeout(ctx, setupTimeout)
	defer stop()
	info, err := l.stream.Info(setup)
	if err == nil {
		s.epoch, err = l.noteEpoch(info)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	s.next = info.State.LastSeq + 1
	it, err := s.consume(setup)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("natsbroker: subscribe: %w", err)
	}
	if !l.b.live.Add(s) {
		it.Stop()
		cancel()
		l.deleteConsumer(context.Background(), s.consumer)
		return nil, ErrClosed
	}
	go s.run(it)
	return l.b.live.Unsubscribe(s), nil
}

// logSub is one SubscribeLog subscription. Its goroutine alone reads and
// writes the fields after ctx.
type logSub struct {
	l       *Log
	deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)
	ctx     context.Context // ended by Stop
	cancel  context.CancelFunc
	done    chan struct{} // closed when run returns

	epoch    uint64 // of the stream being read
	next     uint64 // the stream sequence of the next message to deliver
	consumer string // the current consumer's name
}

// Stop ends deliveries and waits for run to return. It is idempotent.
func (s *logSub) Stop() {
	s.cancel()
	<-s.done
}

// consume makes a consumer of every message from s.next on and starts
// reading it.
func (s *logSub) consume(ctx context.Context) (jetstream.MessagesContext, error) {
	cons, err := s.l.ephemeral(ctx, s.next)
	if err != nil {
		return nil, err
	}
	s.consumer = cons.CachedInfo().Name
	it, err := cons.Messages(jetstream.PullMaxMessages(livePending), jetstream.PullExpiry(liveExpiry), jetstream.PullHeartbeat(liveHeartbeat))
	if err != nil {
		s.l.deleteConsumer(ctx, s.consumer)
		return nil, err
	}
	return it, nil
}

// run delivers from it, and from the consumers that replace it, until Stop
// or the connection's close.
func (s *logSub) run(it jetstream.MessagesContext) {
	defer close(s.done)
	for {
		err := s.drain(it)
		it.Stop()
		s.l.deleteConsumer(s.ctx, s.consumer)
		if s.ctx.Err() != nil || s.l.b.nc.IsClosed() {
			return
		}
		s.l.log.Warn("natsbroker: the stream's consumer ended; making another", "stream", s.l.name, "err", err)
		for it = nil; it == nil; {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(retryWait):
			}
			if s.l.b.nc.IsClosed() {
				return
			}
			if err := s.refresh(); err != nil {
				s.l.log.Warn("natsbroker: the stream cannot be read", "stream", s.l.name, "err", err)
				continue
			}
			if it, err = s.consume(s.ctx); err != nil {
				s.l.log.Warn("natsbroker: the stream's consumer cannot be made", "stream", s.l.name, "err", err)
			}
		}
	}
}

// refresh checks, before a new consumer is made, that the stream is the
// one s reads: one created again since has a new epoch and is read from
// its first message; one deleted is created again.
func (s *logSub) refresh() error {
	ctx, cancel := context.WithTimeout(s.ctx, setupTimeout)
	defer cancel()
	info, err := s.l.stream.Info(ctx)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		var st jetstream.Stream
		if st, err = s.l.ensureStream(ctx); err == nil {
			info = st.CachedInfo()
		}
	}
	if err != nil {
		return err
	}
	epoch, err := s.l.noteEpoch(info)
	if err != nil {
		return err
	}
	if epoch != s.epoch {
		s.l.log.Warn("natsbroker: the stream was created again: its history is lost and positions start a new epoch", "stream", s.l.name)
		s.epoch, s.next = epoch, max(info.State.FirstSeq, 1)
	}
	return nil
}

// drain delivers what it yields until it fails or s is stopped.
func (s *logSub) drain(it jetstream.MessagesContext) error {
	want := uint64(1) // the consumer's sequence of the next delivery
	for {
		m, err := it.Next(jetstream.NextContext(s.ctx))
		if err != nil {
			return err
		}
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		if meta.Sequence.Consumer != want {
			return errGap
		}
		want++
		seq := meta.Sequence.Stream
		if seq > s.next {
			// Evicted before this node read them.
			s.l.b.counters.Dropped.Add(seq - s.next)
		}
		s.next = seq + 1
		userID, ok := brokerkit.UserFromTopic(s.l.subject, m.Subject())
		thread, tok := threadOf(m.Headers())
		if !ok || !tok {
			s.l.b.counters.Malformed.Add(1)
			continue
		}
		s.l.b.counters.Delivered.Add(1)
		s.deliver(userID, thread, wsmanager.Position{Epoch: s.epoch, Seq: seq}, m.Data())
	}
}
