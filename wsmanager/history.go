package wsmanager

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// HistoryOptions configures the per-user history that lets a client which
// reconnects get every message it missed. The zero value keeps no history:
// messages carry no position and a reconnecting client gets only what is
// sent after it connects.
//
// With history, every message SendToUser or Manager.Send queues gets the
// next Position in its user's stream; Frame wraps it with that position
// once, for all the connections it goes to; and the last messages of each
// user are kept, in memory, bounded by Messages, Bytes and MaxAge per user
// and TotalBytes for the whole Factory. A node keeps a stream only for a
// user it holds a Manager for, that is while the user has a connection
// here and for Options.IdleTimeout after the last one left; the janitor
// then releases the stream's memory at its next sweep. A message sent to a
// user with no stream here is kept nowhere on this node, so sends to
// made-up users cost no memory. Broadcast messages are not part of any
// stream: they carry no position and are never replayed.
//
// With a Broker that implements Log, the stream lives in the broker instead,
// shared by every node, and these bounds are the broker's to apply.
type HistoryOptions struct {
	// Messages is how many messages are kept per user. 0 keeps no history.
	Messages int
	// Bytes bounds the framed bytes kept per user; the oldest messages go
	// first. Defaults to 1 MiB.
	Bytes int
	// MaxAge drops messages older than it. Defaults to 0: no age bound.
	MaxAge time.Duration
	// TotalBytes bounds the framed bytes kept by all of the Factory's
	// streams together: a stream that appends past it drops its own oldest
	// messages first, down to its newest, so the bound holds to within
	// one message per stream. Defaults to DefaultHistoryTotalBytes.
	TotalBytes int
	// Frame appends msg, framed with its position, to dst: what every
	// connection is sent. It is called once per message, not once per
	// connection, and must be safe for concurrent use. Messages that have
	// no position (Broadcast, Connection.Send) are framed too, with the
	// zero Position, so a client can tell every message apart. Defaults to
	// PrefixFrame.
	Frame func(dst []byte, pos Position, msg []byte) []byte
	// ResetFrame appends to dst the message a resuming client gets when its
	// position is not in the history any more, or is from another epoch:
	// head is where its stream is now. Defaults to ResetFrame.
	ResetFrame func(dst []byte, head Position) []byte
}

// DefaultHistoryBytes is HistoryOptions.Bytes' default.
const DefaultHistoryBytes = 1 << 20

// DefaultHistoryTotalBytes is HistoryOptions.TotalBytes' default: 256 MiB.
const DefaultHistoryTotalBytes = 256 << 20

// Log is a Broker that keeps each user's stream itself, durably and shared
// by every node of a cluster, so that a client resumes on any node, also
// after the node it was on has gone. A Factory with Options.History whose
// Options.Broker is a Log sends SendToUser and Manager.Send messages (and
// DisconnectUser requests, which no replay delivers) through Append, or
// AppendAsync for an AsyncLog, delivers what SubscribeLog (or a
// LogRouter's SubscribeLogUsers) hands it, its own messages included: the
// Log, not the node, decides every position; and replays from Replay.
//
// What a Factory appends is an envelope, as for Publish: opaque to the Log,
// which keeps it and hands it back unchanged. With Options.BrokerKey it is
// signed and bound to its user and thread, and a Factory delivers and
// replays no envelope without a valid signature (counted in
// Stats.BrokerRejected), so that whoever can write to the Log's storage
// without the key cannot put a message on anyone's connections.
//
// Implementations must be safe for concurrent use.
type Log interface {
	Broker
	// Append adds msg, an envelope, to userID's stream, with threadID, and
	// returns its position. threadID is the message's thread, or "" for a
	// message to all of the user's threads; the envelope itself says which
	// of the two an "" is, so a Log keeps threadID and hands it back as it
	// is. The Factory does not modify msg after the call.
	Append(ctx context.Context, userID, threadID string, msg []byte) (Position, error)
	// SubscribeLog delivers every message appended to any stream, by any
	// node, with its thread and position, in position order per user.
	// deliver takes ownership of msg. It is called once, by NewFactory,
	// instead of Broker.Subscribe, unless the Log is a LogRouter;
	// unsubscribe must stop deliveries before it returns.
	SubscribeLog(deliver func(userID, threadID string, pos Position, msg []byte)) (unsubscribe func() error, err error)
	// Replay calls fn, in order, for every message of userID's stream after
	// after, with its thread, and returns the stream's current head. It returns an error
	// wrapping ErrPositionLost when after is not held any more or is from
	// another epoch, with the head all the same.
	Replay(ctx context.Context, userID string, after Position, fn func(pos Position, threadID string, msg []byte) error) (head Position, err error)
}

// ErrPositionLost is returned by a Log's Replay for a position its stream
// no longer holds; the client is sent a reset.
const ErrPositionLost = sentinel("wsmanager: position no longer in the history")

// historyEntry is one message of an in-memory stream.
type historyEntry struct {
	thread string // the thread it was sent to, unless all
	all    bool   // sent to every thread of the user (SendToUser), not to the thread "" alone
	framed []byte
	at     int64 // nanoseconds since the factory's start; 0 when MaxAge is off
}

// stream is one user's stream on this node. Its mutex orders appends,
// deliveries and resumes: a message appended before a resume is replayed,
// one appended after it is delivered live, and none both. With a Log, the
// messages live in the Log, and the stream orders deliveries and resumes
// alone, holding the replay state of the user's resuming connections.
type stream struct {
	mu       sync.Mutex
	epoch    uint64
	total    *atomic.Int64  // the bytes kept by all of the Factory's streams
	head     uint64         // seq of the last message
	entries  []historyEntry // a ring, oldest at first; len is the capacity used so far
	first    int
	n        int
	bytes    int
	released bool // removed by the janitor: appends go to a new stream
	// holds is the replay state of this user's connections that joined
	// through a Log (see replayHold); nil until one does.
	holds map[*Connection]*replayHold
}

func newStream(total *atomic.Int64) *stream {
	return &stream{epoch: newEpoch(), total: total}
}

// release marks a stream the janitor removed and gives back its bytes. The
// caller holds its lock.
func (s *stream) release() {
	s.released = true
	s.total.Add(-int64(s.bytes))
	s.entries, s.n, s.bytes = nil, 0, 0
}

func newEpoch() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])                   // never fails: crypto/rand crashes the program instead
	return binary.BigEndian.Uint64(b[:]) | 1 // never 0: a zero Position means none
}

// add keeps an entry, dropping the oldest beyond the bounds: the count,
// the bytes, and MaxAge as of the entry's time.
func (s *stream) add(e historyEntry, h *HistoryOptions) {
	if s.n == len(s.entries) && s.n < h.Messages {
		grown := make([]historyEntry, min(max(2*s.n, 8), h.Messages))
		for i := range s.n {
			grown[i] = s.entries[(s.first+i)%len(s.entries)]
		}
		s.entries, s.first = grown, 0
	}
	if s.n == h.Messages {
		s.drop()
	}
	s.entries[(s.first+s.n)%len(s.entries)] = e
	s.n++
	s.bytes += len(e.framed)
	total := s.total.Add(int64(len(e.framed)))
	for s.n > 1 && (s.bytes > h.Bytes || total > int64(h.TotalBytes)) {
		s.drop()
		total = s.total.Load()
	}
	s.expire(h, e.at)
}

func (s *stream) drop() {
	e := &s.entries[s.first]
	s.bytes -= len(e.framed)
	s.total.Add(-int64(len(e.framed)))
	*e = historyEntry{}
	s.first = (s.first + 1) % len(s.entries)
	s.n--
}

// expire drops entries older than MaxAge.
func (s *stream) expire(h *HistoryOptions, now int64) {
	if h.MaxAge <= 0 {
		return
	}
	for s.n > 0 && now-s.entries[s.first].at > int64(h.MaxAge) {
		s.drop()
	}
}

// replay calls fn for every entry after seq meant for thread, in order. It
// reports false if after is not held: another epoch, or older than the
// oldest entry kept, or ahead of the stream.
func (s *stream) replay(after Position, thread string, fn func(historyEntry)) bool {
	oldest := s.head - uint64(s.n) // the seq before the oldest kept
	if after.Epoch != s.epoch || after.Seq < oldest || after.Seq > s.head {
		return false
	}
	for i := int(after.Seq - oldest); i < s.n; i++ {
		e := s.entries[(s.first+i)%len(s.entries)]
		if e.all || e.thread == thread {
			fn(e)
		}
	}
	return true
}
