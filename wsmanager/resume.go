package wsmanager

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// framePrefixRoom is the room left before a message for its framing: a
// position in text (16 hexadecimal digits, a dot, 20 decimal digits), a
// separator, and a little for a Frame that adds field names.
const framePrefixRoom = 48

// unpositioned frames a message that has no position (Connection.Send,
// Broadcast) with the zero Position, when history is on, so that every
// message a client gets is framed the same way.
func (f *Factory) unpositioned(msg []byte) []byte {
	if !f.historyOn() {
		return msg
	}
	return f.frame(Position{}, msg)
}

// frame is msg framed with pos by HistoryOptions.Frame, into one buffer
// with room for the position, so that PrefixFrame allocates once.
func (f *Factory) frame(pos Position, msg []byte) []byte {
	return f.opts.History.Frame(make([]byte, 0, len(msg)+framePrefixRoom), pos, msg)
}

// historyOn reports whether messages get positions.
func (f *Factory) historyOn() bool { return f.opts.History.Messages > 0 }

// lockStream returns userID's stream on this node, creating it, locked.
// A stream the janitor released in between is never returned.
func (f *Factory) lockStream(userID string) *stream {
	for {
		v, ok := f.streams.Load(userID)
		if !ok {
			v, _ = f.streams.LoadOrStore(userID, &stream{epoch: newEpoch()})
		}
		s := v.(*stream)
		s.mu.Lock()
		if !s.released {
			s.used = true
			return s
		}
		s.mu.Unlock()
	}
}

// ReserveResume is Reserve for a client that presents the position of the
// last message it handled: the connection's queue starts with every
// message of its user's stream after after that is meant for it (the
// user's and its thread's), in order, so that nothing sent while the client
// was away is lost and nothing is delivered twice; live messages follow.
// When after is no longer in the history, or is from another epoch, the
// queue starts with HistoryOptions.ResetFrame instead, and the reset is
// counted in Stats.ResumeResets. A zero after is a client with nothing to
// resume: it gets the reset frame, which tells it where its stream stands.
//
// Without history (HistoryOptions.Messages zero), ReserveResume is Reserve.
// Replayed messages are queued regardless of QueueSize and QueueBytes: the
// history's own bounds apply to them.
func (f *Factory) ReserveResume(ctx context.Context, uc UserContext, after Position) (*Reservation, error) {
	c, err := f.join(ctx, uc, nil, after)
	if err != nil {
		return nil, err
	}
	return c.reserved(ctx, nil), nil
}

// join registers a new connection for uc (with m, if not nil) and, with
// history, fills its queue from its stream: the node's own stream under
// the stream's lock, a Log's with none held (see replayLog), so that no
// message appended meanwhile is lost or doubled.
func (f *Factory) join(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error) {
	register := func() (*Connection, error) {
		if m != nil {
			return m.register(ctx)
		}
		return f.register(ctx, uc)
	}
	if !f.historyOn() {
		return register()
	}
	if err := uc.Validate(); err != nil {
		return nil, err
	}
	st := f.lockStream(uc.UserID)
	c, err := register()
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	if f.hlog != nil {
		// The Log's replay is a round trip, or many: it runs with no lock
		// held, so that deliveries to this user's other connections, and
		// the Log subscription that serves every user of this node, never
		// wait for it. Live messages for c are held on it meanwhile.
		c.replaying = true
		st.mu.Unlock()
		f.replayLog(ctx, c, after)
		return c, nil
	}
	defer st.mu.Unlock()
	if h := &f.opts.History; h.MaxAge > 0 {
		// Nothing may have been appended since the oldest entries aged
		// out: drop them now, so they are never replayed.
		st.expire(h, int64(time.Since(f.start)))
	}
	replayed := 0
	ok := !after.IsZero() && st.replay(after, uc.ThreadID, func(e historyEntry) {
		c.pushReplay(e.framed)
		replayed++
	})
	f.resumed(c, after, ok, Position{Epoch: st.epoch, Seq: st.head}, replayed)
	return c, nil
}

// heldMessage is a live message delivered to a connection while its
// replay from a Log was under way.
type heldMessage struct {
	pos    Position
	framed []byte
}

// hold keeps a live message for c while its replay from a Log is under
// way, within the bounds of its queue (QueueSize, QueueBytes), which the
// held messages will be queued to, and by Options.OnFull as the queue
// applies it: DropOldest drops the oldest held, DropNewest refuses this
// one, CloseSlow refuses it and appends c to slow, once, for the caller to
// close. A held message is counted in Stats when it is queued or dropped.
// The caller holds the stream's lock.
func (c *Connection) hold(pos Position, framed []byte, slow []*Connection) []*Connection {
	f := c.m.f
	for exceeds(len(c.held), c.heldBytes, len(framed), f.opts.QueueSize, f.opts.QueueBytes) {
		f.stats.queued.Add(1)
		switch f.opts.OnFull {
		case DropOldest:
			c.heldBytes -= len(c.held[0].framed)
			c.held[0] = heldMessage{}
			c.held = c.held[1:]
			f.stats.dropped.Add(1)
			continue
		case DropNewest:
			f.stats.dropped.Add(1)
		default:
			f.stats.discarded.Add(1)
			if !c.heldSlow {
				c.heldSlow = true
				slow = append(slow, c)
			}
		}
		return slow
	}
	c.held = append(c.held, heldMessage{pos, framed})
	c.heldBytes += len(framed)
	return slow
}

// replayLog fills a new connection's queue from the Log, with no lock held
// and c.replaying set, then, under the stream's lock, queues the live
// messages held meanwhile that the replay did not cover, and ends the
// replay: nothing is lost or doubled, whichever of the replay and a live
// delivery handed a message first. If the Log or HistoryOptions.Frame
// panics, the connection is abandoned and the panic goes on.
func (f *Factory) replayLog(ctx context.Context, c *Connection, after Position) {
	userID := c.m.uc.UserID
	defer func() {
		if r := recover(); r != nil {
			st := f.lockStream(userID)
			c.replaying, c.held, c.heldBytes = false, nil, 0
			st.mu.Unlock()
			c.abandon()
			panic(r)
		}
	}()
	replayed := 0
	var head, last Position
	var err error = ErrPositionLost
	if !after.IsZero() {
		head, err = f.hlog.Replay(ctx, userID, after, func(pos Position, thread string, env []byte) error {
			if msg, whole, ok := f.openLog(userID, thread, env); ok && (whole || thread == c.m.uc.ThreadID) {
				c.pushReplay(f.frame(pos, msg))
				replayed++
			}
			last = pos
			return nil
		})
	} else {
		head, _ = f.hlog.Replay(ctx, userID, Position{}, nil)
	}
	ok := err == nil
	if !ok && !errors.Is(err, ErrPositionLost) {
		f.log.Warn("wsmanager: history replay failed; sending a reset", "err", err)
	}
	if head.Epoch != last.Epoch || head.Seq > last.Seq {
		last = head
	}
	f.resumed(c, after, ok, head, replayed)

	st := f.lockStream(userID)
	c.resumedTo = last
	held := c.held
	c.replaying, c.held, c.heldBytes = false, nil, 0
	n, full := 0, 0
	var slow []*Connection
	for _, h := range held {
		if !c.covered(h.pos) {
			slow = c.offer(h.framed, &n, &full, slow)
		}
	}
	st.mu.Unlock()
	f.stats.queued.Add(uint64(n + full))
	closeSlow(slow)
}

// covered reports whether a live message at pos reached c through its
// replay already. The caller holds the stream's lock.
func (c *Connection) covered(pos Position) bool {
	return pos.Epoch == c.resumedTo.Epoch && pos.Seq <= c.resumedTo.Seq
}

// resumed counts a join and, unless the resume succeeded, queues the reset
// frame that tells the client where its stream stands.
func (f *Factory) resumed(c *Connection, after Position, ok bool, head Position, replayed int) {
	switch {
	case ok:
		f.stats.resumes.Add(1)
		f.stats.replayed.Add(uint64(replayed))
		return
	case !after.IsZero():
		f.stats.resumeResets.Add(1)
	}
	c.pushReplay(f.opts.History.ResetFrame(nil, head))
}

// pushReplay queues a replayed message, or a reset frame, ahead of anything
// live, regardless of the queue's bounds and without taking room from the
// live messages that follow.
func (c *Connection) pushReplay(msg []byte) {
	c.mu.Lock()
	c.q.pushExtra(msg)
	c.mu.Unlock()
	c.m.f.stats.queued.Add(1)
}

// queueLocal queues msg to this node's connections of userID: those of
// m's thread, or all of them when m is nil. With history, msg first gets
// the next position in the user's stream and is framed and kept, all under
// the stream's lock. It returns how many connections accepted it and how
// many were full.
func (f *Factory) queueLocal(userID string, m *Manager, msg []byte) (n, full int) {
	var slow []*Connection
	// Last, once no lock is held: their observers may send to this user.
	defer func() { closeSlow(slow) }()
	if h := &f.opts.History; f.historyOn() {
		st := f.lockStream(userID)
		defer st.mu.Unlock()
		st.head++
		msg = f.frame(Position{Epoch: st.epoch, Seq: st.head}, msg)
		var at int64
		if h.MaxAge > 0 {
			at = int64(time.Since(f.start))
		}
		e := historyEntry{all: m == nil, framed: msg, at: at}
		if m != nil {
			e.thread = m.uc.ThreadID
		}
		st.add(e, h)
	}
	if m != nil {
		n, full, slow = m.send(msg, nil)
		f.stats.queued.Add(uint64(n + full))
		return n, full
	}
	n, full, slow = f.sendLocal(userID, msg, nil)
	return n, full
}

// deliverLog is the Factory's Log subscription: it queues a message, framed
// with the position the Log gave it, to this node's connections of userID
// (of threadID, or all of them when the envelope is for the whole user),
// skipping those that have it from their replay.
func (f *Factory) deliverLog(userID, threadID string, pos Position, env []byte) {
	if f.isClosed.Load() {
		return
	}
	msg, whole, ok := f.openLog(userID, threadID, env)
	if !ok {
		return
	}
	f.mu.RLock()
	local := len(f.users[userID]) > 0
	f.mu.RUnlock()
	if !local {
		// No stream state for a user with no Manager here: a connection
		// of theirs that joins later finds this message in its replay,
		// since the Log stored it before handing it out.
		f.stats.brokerReceived.Add(1)
		return
	}
	st := f.lockStream(userID)
	var slow []*Connection
	defer func() {
		st.mu.Unlock()
		closeSlow(slow)
	}()
	framed := f.frame(pos, msg)
	n, full := 0, 0
	f.mu.RLock()
	for thread, m := range f.users[userID] {
		if !whole && thread != threadID {
			continue
		}
		p := m.conns.Load()
		if p == nil {
			continue
		}
		for _, c := range *p {
			if c.replaying {
				slow = c.hold(pos, framed, slow)
				continue
			}
			if !c.covered(pos) {
				slow = c.offer(framed, &n, &full, slow)
			}
		}
	}
	f.mu.RUnlock()
	f.stats.queued.Add(uint64(n + full))
	f.stats.brokerReceived.Add(1)
}

// sweepStreams releases the streams of users with no Manager that have been
// unused for IdleTimeout. A stream used since the last sweep starts its idle
// time now.
func (f *Factory) sweepStreams(now time.Time) {
	f.streams.Range(func(key, v any) bool {
		userID, s := key.(string), v.(*stream)
		f.mu.RLock()
		active := len(f.users[userID]) > 0
		f.mu.RUnlock()
		s.mu.Lock()
		switch {
		case active || s.used || s.idleFrom.IsZero():
			s.used = false
			s.idleFrom = now
		case now.Sub(s.idleFrom) >= f.opts.IdleTimeout:
			s.released = true
			f.streams.Delete(userID)
		}
		s.mu.Unlock()
		return true
	})
}

// sealLog builds the envelope a Log keeps for msg, bound to its user and
// thread, and saying whether it is for all of the user's threads (whole) or
// for threadID alone, the thread "" included: with a BrokerKey, whoever can
// append to the Log without the key can neither forge a message nor move
// one to another user, thread or scope.
func (f *Factory) sealLog(userID, threadID string, whole bool, msg []byte) []byte {
	version := byte(logEnvelopePlain)
	if whole {
		version = logEnvelopeUser
	}
	return f.sealAs(version, msg, userID, threadID)
}

// openLog returns the message of an envelope the Log handed back for
// userID and threadID, and whether it is for all of the user's threads. It
// reports false, and counts it, for anything sealLog did not build with
// this node's BrokerKey (or without one, when the node has none).
func (f *Factory) openLog(userID, threadID string, env []byte) (msg []byte, whole, ok bool) {
	version := byte(logEnvelopePlain)
	if len(env) > 0 && (env[0] == logEnvelopeUser || env[0] == logEnvelopeUser+signed) {
		version, whole = logEnvelopeUser, true
	}
	_, msg, ok, rejected := f.openAs(version, env, userID, threadID)
	switch {
	case rejected:
		f.stats.brokerRejected.Add(1)
	case !ok:
		f.stats.brokerMalformed.Add(1)
	}
	return msg, whole, ok
}

// appendLog appends msg, sealed, to the Log, for all of userID's threads
// (whole, and threadID is "") or for threadID alone. Delivery, to this
// node's connections too, happens when the Log hands it back; n counts the
// connections it will reach here now.
func (f *Factory) appendLog(ctx context.Context, userID, threadID string, whole bool, msg []byte) (int, error) {
	if _, err := f.hlog.Append(ctx, userID, threadID, f.sealLog(userID, threadID, whole, msg)); err != nil {
		f.stats.brokerErrors.Add(1)
		f.log.Warn("wsmanager: history append failed", "err", err)
		return 0, fmt.Errorf("%w: append: %w", ErrBroker, err)
	}
	f.stats.brokerPublished.Add(1)
	n := 0
	f.mu.RLock()
	for thread, m := range f.users[userID] {
		if !whole && thread != threadID {
			continue
		}
		if p := m.conns.Load(); p != nil {
			n += len(*p)
		}
	}
	f.mu.RUnlock()
	return n, nil
}
