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

// replayBatch is how many messages one request of a replay fetches.
const replayBatch = 256

// consumerIdle is how long the servers keep a consumer nobody reads from:
// the consumer of a node that went away without deleting it.
const consumerIdle = time.Minute

// Replay calls fn, in stream order, for every message of userID's stream
// after after, up to the stream's head as Replay found it, and returns that
// head: later messages reach the Factory through SubscribeLogUsers (or
// SubscribeLog). A nil fn returns the head alone.
//
// It returns an error wrapping wsmanager.ErrPositionLost, with the head, and
// without calling fn, when after is from another epoch (the stream was
// deleted and created again since), ahead of the head, or older than what
// the stream may still hold. The stream does not remember what it evicted,
// so that last check errs toward a reset: a message of the user after
// after may have been evicted only if the user's oldest message held comes
// later than the one right after after, and either the stream's first
// message does too (MaxBytes, MaxAge) or the user is at MessagesPerUser;
// in those cases the client gets a reset, even if the evicted messages
// were all older than after. The check is made once the messages are
// fetched, so an eviction during the replay is caught too.
//
// It returns ErrInvalidUser for an invalid user ID, ErrClosed after Close,
// and the JetStream error if the stream does not answer.
func (l *Log) Replay(ctx context.Context, userID string, after wsmanager.Position, fn func(pos wsmanager.Position, threadID string, msg []byte) error) (wsmanager.Position, error) {
	if !brokerkit.ValidUser(userID) {
		return wsmanager.Position{}, ErrInvalidUser
	}
	if l.b.closed.Load() {
		return wsmanager.Position{}, ErrClosed
	}
	subj := l.subjectOf(userID)
	info, err := l.stream.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return wsmanager.Position{}, fmt.Errorf("natsbroker: replay: %w", err)
	}
	epoch, err := l.noteEpoch(info)
	if err != nil {
		return wsmanager.Position{}, err
	}
	head := wsmanager.Position{Epoch: epoch, Seq: info.State.LastSeq}
	switch {
	case fn == nil || after == head:
		return head, nil
	case after.Epoch != epoch:
		return head, fmt.Errorf("%w: from another epoch of stream %q", wsmanager.ErrPositionLost, l.name)
	case after.Seq > head.Seq:
		return head, fmt.Errorf("%w: ahead of stream %q", wsmanager.ErrPositionLost, l.name)
	}
	var msgs []stored
	if info.State.Subjects[subj] > 0 {
		if msgs, err = l.fetch(ctx, subj, after.Seq+1, head.Seq); err != nil {
			return head, err
		}
		// What the stream holds now, after the fetch.
		if info, err = l.stream.Info(ctx, jetstream.WithSubjectFilter(subj)); err != nil {
			return head, fmt.Errorf("natsbroker: replay: %w", err)
		}
		if e, err := epochOf(info); err != nil || e != epoch {
			return head, fmt.Errorf("%w: stream %q was created again during the replay", wsmanager.ErrPositionLost, l.name)
		}
	}
	if lost, err := l.mayHaveEvicted(ctx, info, subj, after.Seq); err != nil || lost {
		if err == nil {
			err = fmt.Errorf("%w: older than what stream %q holds", wsmanager.ErrPositionLost, l.name)
		}
		return head, err
	}
	for _, m := range msgs {
		if err := fn(wsmanager.Position{Epoch: epoch, Seq: m.seq}, m.thread, m.data); err != nil {
			return head, err
		}
	}
	return head, nil
}

// mayHaveEvicted reports whether a message on subj after the stream
// sequence after may have been evicted, given info, the stream as it is
// now with subj's count: evictions take the oldest messages, of the stream
// (MaxBytes, MaxAge) or of the subject (MessagesPerUser), so every message
// evicted from subj is older than its oldest one held.
func (l *Log) mayHaveEvicted(ctx context.Context, info *jetstream.StreamInfo, subj string, after uint64) (bool, error) {
	held := info.State.Subjects[subj]
	limit := info.Config.MaxMsgsPerSubject
	atLimit := limit > 0 && held >= uint64(limit)
	if info.State.FirstSeq <= after+1 && !atLimit {
		return false, nil
	}
	if held == 0 {
		return true, nil
	}
	oldest, err := l.stream.GetMsg(ctx, info.State.FirstSeq, jetstream.WithGetMsgSubject(subj))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("natsbroker: replay: %w", err)
	}
	return oldest.Sequence > after+1, nil
}

// stored is a message of the stream as fetch read it.
type stored struct {
	seq    uint64 // stream sequence
	thread string
	data   []byte
}

// fetch returns the messages on subj from the stream sequence start to
// last, in order, skipping (and counting) those Append did not write.
func (l *Log) fetch(ctx context.Context, subj string, start, last uint64) ([]stored, error) {
	var out []stored
	err := l.scan(ctx, start, []string{subj}, func(seq uint64, m jetstream.Msg) bool {
		if seq > last {
			return false
		}
		if thread, ok := threadOf(m.Headers()); ok {
			out = append(out, stored{seq, thread, m.Data()})
		} else {
			l.b.counters.Malformed.Add(1)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("natsbroker: replay: %w", err)
	}
	return out, nil
}

// scan calls fn, in order, for the stream's messages on filters from the
// stream sequence start to the stream's head as the servers see it while
// scan reads, through an ephemeral consumer of its own, until fn returns
// false.
func (l *Log) scan(ctx context.Context, start uint64, filters []string, fn func(seq uint64, m jetstream.Msg) bool) error {
	cons, err := l.ephemeral(ctx, start, filters...)
	if err != nil {
		return err
	}
	defer l.deleteConsumer(ctx, cons.CachedInfo().Name)
	for {
		batch, err := cons.FetchNoWait(replayBatch)
		if err != nil {
			return err
		}
		n, done := 0, false
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				continue
			}
			if done || !fn(meta.Sequence.Stream, m) {
				done = true
				continue
			}
			done = meta.NumPending == 0
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if done || n == 0 {
			return nil
		}
	}
}

// ephemeral makes a consumer of the stream's messages from the sequence
// start on, on the subjects filters match (every subject without one),
// that this Log reads without acknowledging and deletes when done; the
// servers delete one it leaves behind after consumerIdle.
func (l *Log) ephemeral(ctx context.Context, start uint64, filters ...string) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       start,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: consumerIdle,
		MemoryStorage:     true,
		Replicas:          1,
	}
	if len(filters) == 1 {
		cfg.FilterSubject = filters[0]
	} else {
		cfg.FilterSubjects = filters
	}
	return l.stream.CreateConsumer(ctx, cfg)
}

// deleteConsumer deletes a consumer this Log made, once it is done with it,
// even if ctx has ended; the servers delete one that this fails to after
// consumerIdle.
func (l *Log) deleteConsumer(ctx context.Context, name string) {
	if !l.b.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = l.stream.DeleteConsumer(ctx, name)
}
