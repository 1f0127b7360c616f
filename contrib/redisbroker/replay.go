package redisbroker

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/wsmanager"
)

// replayBatch is how many entries one XRANGE of a replay reads.
const replayBatch = 512

// headOf runs the head script for userID, making the stream's epoch if it
// has none, and returns the stream's head: its epoch, and the position of
// its last entry appended (Seq 0 for none).
func (l *Log) headOf(ctx context.Context, userID string) (wsmanager.Position, error) {
	_, keys := l.keys(userID)
	v, err := l.headScript.Run(ctx, l.b.client, keys, epochCandidate(), l.maxAge).Result()
	if err != nil {
		return wsmanager.Position{}, classify(err)
	}
	head, _, err := scriptReply(v)
	return head, err
}

// entry is a stream entry as a replay read it.
type entry struct {
	pos    wsmanager.Position
	thread string
	msg    string
}

// Replay calls fn, in order, for every message of userID's stream after
// after, up to the stream's head as Replay found it, and returns that
// head: later messages reach the Factory through the Log's subscriptions.
// A nil fn returns the head alone. For a user whose stream has no message
// yet, the head is the stream's epoch with Seq 0, and the epoch is kept
// for the stream's first append.
//
// It returns an error wrapping wsmanager.ErrPositionLost, with the head,
// and without calling fn, when after is from another epoch, ahead of the
// head, or older than what the stream holds: each entry records the ID of
// the one appended before it, and the entries read must link up to after,
// so a position whose successor was trimmed (MessagesPerUser, MaxAge) or
// deleted is lost, also when that happens during the replay.
//
// It returns ErrInvalidUser for an invalid user ID, ErrClosed after Close,
// and Redis's error (wrapping ErrDisconnected if Redis cannot be reached).
// Entries that the append script did not write are counted in
// Stats.Malformed and make the position lost.
func (l *Log) Replay(ctx context.Context, userID string, after wsmanager.Position, fn func(pos wsmanager.Position, threadID string, msg []byte) error) (wsmanager.Position, error) {
	if !brokerkit.ValidUser(userID) {
		return wsmanager.Position{}, ErrInvalidUser
	}
	if l.b.closed.Load() {
		return wsmanager.Position{}, ErrClosed
	}
	head, err := l.headOf(ctx, userID)
	if err != nil {
		return wsmanager.Position{}, fmt.Errorf("redisbroker: replay: %w", err)
	}
	if fn == nil || after == head {
		return head, nil
	}
	switch {
	case after.Epoch != head.Epoch:
		return head, fmt.Errorf("%w: from another epoch of the stream", wsmanager.ErrPositionLost)
	case after.Seq > head.Seq:
		return head, fmt.Errorf("%w: ahead of the stream", wsmanager.ErrPositionLost)
	}
	entries, err := l.read(ctx, userID, head.Epoch, after.Seq, head.Seq, false)
	if err != nil {
		return head, fmt.Errorf("redisbroker: replay: %w", err)
	}
	// The stream may have been deleted and begun again during the read.
	if now, err := l.headOf(ctx, userID); err != nil || now.Epoch != head.Epoch {
		if err != nil {
			return head, fmt.Errorf("redisbroker: replay: %w", err)
		}
		return head, fmt.Errorf("%w: the stream began a new epoch during the replay", wsmanager.ErrPositionLost)
	}
	for _, e := range entries {
		if err := fn(e.pos, e.thread, []byte(e.msg)); err != nil {
			return head, err
		}
	}
	return head, nil
}

// errUnlinked is returned by read when the stream no longer holds every
// entry after the position it reads from.
const errUnlinked = sentinel("redisbroker: the stream no longer holds every entry after the position")

// read returns the entries of userID's stream after the Seq from up to
// the Seq to, in order, with positions of epoch. It returns an error
// wrapping wsmanager.ErrPositionLost and errUnlinked unless each entry
// names the one before it, the first names from (unless oldest: then it
// starts at the oldest entry held), and the last is to.
func (l *Log) read(ctx context.Context, userID string, epoch, from, to uint64, oldest bool) ([]entry, error) {
	return l.readOn(ctx, userID, epoch, from, to, oldest, nil)
}

// readOn is read, given the first page of entries if it has been read
// (XRANGE after from up to to, at most replayBatch), or nil.
func (l *Log) readOn(ctx context.Context, userID string, epoch, from, to uint64, oldest bool, page []redis.XMessage) ([]entry, error) {
	_, keys := l.keys(userID)
	var out []entry
	prev, end := idOf(from), idOf(to)
	for {
		if page == nil {
			var err error
			if page, err = l.b.client.XRangeN(ctx, keys[0], "("+prev, end, replayBatch).Result(); err != nil {
				return nil, classify(err)
			}
		}
		for _, m := range page {
			seq, err := seqOf(m.ID)
			thread, tok := m.Values["t"].(string)
			p, pok := m.Values["p"].(string)
			msg, mok := m.Values["m"].(string)
			if err != nil || !tok || !pok || !mok || len(m.Values) != 3 {
				l.b.counters.Malformed.Add(1)
				return nil, fmt.Errorf("%w: %w: an entry the Log did not write", wsmanager.ErrPositionLost, errUnlinked)
			}
			if p != prev && (!oldest || len(out) > 0) {
				return nil, fmt.Errorf("%w: %w", wsmanager.ErrPositionLost, errUnlinked)
			}
			prev = m.ID
			out = append(out, entry{wsmanager.Position{Epoch: epoch, Seq: seq}, thread, msg})
		}
		if len(page) < replayBatch {
			break
		}
		page = nil
	}
	if prev != end {
		return nil, fmt.Errorf("%w: %w", wsmanager.ErrPositionLost, errUnlinked)
	}
	return out, nil
}
