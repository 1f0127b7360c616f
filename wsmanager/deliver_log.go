package wsmanager

import (
	"context"
	"errors"
	"fmt"
)

// logDelivery stores every message in a Log before any node delivers it:
// send appends, and every node, this one included, queues what the Log
// hands back, framed with the position the Log gave it. A joining
// connection is filled from the Log's Replay with no lock held; the live
// messages that arrive for it meanwhile are held on its user's stream (a
// replayHold) and merged once the replay ends.
type logDelivery struct {
	f     *Factory
	log   Log
	async AsyncLog // log, when it pipelines appends; nil otherwise
	unsub func() error
}

func newLogDelivery(f *Factory, l Log) (*logDelivery, error) {
	d := &logDelivery{f: f, log: l}
	d.async, _ = l.(AsyncLog)
	if r, ok := l.(LogRouter); ok {
		in, err := r.SubscribeLogUsers(d.receive)
		if err != nil {
			return nil, subscribeError(err)
		}
		if in == nil {
			return nil, fmt.Errorf("%w: SubscribeLogUsers returned a nil Interest", ErrInvalidOptions)
		}
		f.interest = newInterestSet(f, in)
		d.unsub = f.interest.close
		return d, nil
	}
	unsub, err := l.SubscribeLog(d.receive)
	if err != nil {
		return nil, subscribeError(err)
	}
	if unsub == nil {
		return nil, fmt.Errorf("%w: SubscribeLog returned a nil unsubscribe function", ErrInvalidOptions)
	}
	d.unsub = unsub
	return d, nil
}

func (d *logDelivery) stop() error { return d.unsub() }

// send appends msg, sealed, for all of userID's threads (m nil) or for m's
// thread alone. Delivery, to this node's connections too, happens when the
// Log hands it back. With an AsyncLog and no wait, it returns once the Log
// has accepted msg; a later failure is counted and logged.
func (d *logDelivery) send(ctx context.Context, userID string, m *Manager, msg []byte, wait bool) (int, error) {
	f := d.f
	threadID := ""
	if m != nil {
		threadID = m.uc.ThreadID
	}
	env := f.sealLog(userID, threadID, m == nil, msg)
	if err := d.append(ctx, userID, threadID, env, wait); err != nil {
		return 0, err
	}
	if m != nil {
		return m.addressed(), nil
	}
	return f.addressed(userID), nil
}

// append stores env in the Log, waiting for the Log's acknowledgement
// unless the Log pipelines and the caller does not wait.
func (d *logDelivery) append(ctx context.Context, userID, threadID string, env []byte, wait bool) error {
	f := d.f
	if d.async == nil {
		_, err := d.log.Append(ctx, userID, threadID, env)
		return f.appended(err)
	}
	var done chan error
	if wait {
		done = make(chan error, 1)
	}
	err := d.async.AppendAsync(ctx, userID, threadID, env, func(_ Position, err error) {
		err = f.appended(err)
		if done != nil {
			done <- err
		}
	})
	if err != nil {
		return f.appended(err)
	}
	if done == nil {
		return nil
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// appended counts the outcome of an append and returns its error wrapped.
func (f *Factory) appended(err error) error {
	if err == nil {
		f.stats.brokerPublished.Add(1)
		return nil
	}
	f.stats.brokerErrors.Add(1)
	f.log.Warn("wsmanager: history append failed", "err", err)
	return fmt.Errorf("%w: append: %w", ErrBroker, err)
}

func (d *logDelivery) disconnect(ctx context.Context, userID string, code int, reason string) error {
	env := d.f.sealControl(userID, code, reason)
	return d.append(ctx, userID, "", env, false)
}

// receive is the Log subscription: it queues a message, framed with the
// position the Log gave it, to this node's connections of userID (of
// threadID, or all of them when the envelope is for the whole user),
// skipping those that have it from their replay and holding it for those
// whose replay is under way.
func (d *logDelivery) receive(userID, threadID string, pos Position, env []byte) {
	f := d.f
	if f.isClosed.Load() {
		return
	}
	if isControl(env) {
		f.receiveControl(userID, env)
		return
	}
	msg, whole, ok := f.openLog(userID, threadID, env)
	if !ok {
		return
	}
	f.stats.brokerReceived.Add(1)
	// No stream state for a user with no Manager here: a connection of
	// theirs that joins later finds this message in its replay, since the
	// Log stored it before handing it out.
	st := f.lockStream(userID, f.holdsUser(userID))
	if st == nil {
		return
	}
	var slow []*Connection
	defer func() {
		st.mu.Unlock()
		closeSlow(slow)
	}()
	framed := f.frame(pos, msg)
	n, full := 0, 0
	f.mu.RLock()
	for m := range f.users[userID].all {
		if !whole && m.uc.ThreadID != threadID {
			continue
		}
		p := m.conns.Load()
		if p == nil {
			continue
		}
		for _, c := range *p {
			h := st.holds[c]
			switch {
			case h == nil:
				slow = c.offer(framed, &n, &full, slow)
			case h.replaying:
				slow = h.hold(c, pos, framed, slow)
			case !h.covers(pos):
				// Past what the replay gave it: from now on c is
				// delivered live like any other.
				delete(st.holds, c)
				slow = c.offer(framed, &n, &full, slow)
			}
		}
	}
	f.mu.RUnlock()
	f.stats.queued.Add(uint64(n + full))
}

// join registers a new connection for uc and fills its queue from the
// Log's Replay, with no lock held, so that deliveries to this user's other
// connections, and the Log subscription that serves every user of this
// node, never wait for it. Live messages for it are held on its stream
// meanwhile.
func (d *logDelivery) join(ctx context.Context, uc UserContext, m *Manager, after Position) (*Connection, error) {
	f := d.f
	st := f.lockStream(uc.UserID, true)
	c, err := f.registerFor(ctx, uc, m)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	h := &replayHold{replaying: true}
	if st.holds == nil {
		st.holds = make(map[*Connection]*replayHold)
	}
	st.holds[c] = h
	st.mu.Unlock()
	d.replay(ctx, c, h, after)
	return c, nil
}

// replayHold is the state of a connection that resumed from a Log, kept on
// its user's stream and guarded by the stream's lock: while replaying, the
// live messages delivered to it are held, within the bounds of its queue;
// after, the live messages its replay covered (up to resumedTo) are
// skipped. It is removed at the first live message past resumedTo, or
// with the connection.
type replayHold struct {
	replaying bool
	resumedTo Position
	held      []heldMessage
	heldBytes int
	heldSlow  bool // held refused a message under CloseSlow: the connection is closing
}

// heldMessage is a live message delivered to a connection while its
// replay from a Log was under way.
type heldMessage struct {
	pos    Position
	framed []byte
}

// covers reports whether a live message at pos reached the connection
// through its replay already.
func (h *replayHold) covers(pos Position) bool {
	return pos.Epoch == h.resumedTo.Epoch && pos.Seq <= h.resumedTo.Seq
}

// hold keeps a live message for c while its replay is under way, within
// the bounds of its queue (QueueSize, QueueBytes), which the held messages
// will be queued to, and by Options.OnFull as the queue applies it:
// DropOldest drops the oldest held, DropNewest refuses this one, CloseSlow
// refuses it and appends c to slow, once, for the caller to close. A held
// message is counted in Stats when it is queued or dropped.
func (h *replayHold) hold(c *Connection, pos Position, framed []byte, slow []*Connection) []*Connection {
	f := c.m.f
	for exceeds(len(h.held), h.heldBytes, len(framed), f.opts.QueueSize, f.opts.QueueBytes) {
		f.stats.queued.Add(1)
		switch f.opts.OnFull {
		case DropOldest:
			h.heldBytes -= cost(len(h.held[0].framed))
			h.held[0] = heldMessage{}
			h.held = h.held[1:]
			f.stats.dropped.Add(1)
			continue
		case DropNewest:
			f.stats.dropped.Add(1)
		default:
			f.stats.discarded.Add(1)
			if !h.heldSlow {
				h.heldSlow = true
				slow = append(slow, c)
			}
		}
		return slow
	}
	h.held = append(h.held, heldMessage{pos, framed})
	h.heldBytes += cost(len(framed))
	return slow
}

// replay fills c's queue from the Log, with no lock held, then, under the
// stream's lock, queues the live messages held meanwhile that the replay
// did not cover, and ends the replay: nothing is lost or doubled,
// whichever of the replay and a live delivery handed a message first. If
// the Log or HistoryOptions.Frame panics, the connection is abandoned and
// the panic goes on.
func (d *logDelivery) replay(ctx context.Context, c *Connection, h *replayHold, after Position) {
	f := d.f
	userID := c.m.uc.UserID
	defer func() {
		if r := recover(); r != nil {
			st := f.lockStream(userID, true)
			delete(st.holds, c)
			st.mu.Unlock()
			c.abandon()
			panic(r)
		}
	}()
	replayed := 0
	var head, last Position
	var err error = ErrPositionLost
	if !after.IsZero() {
		head, err = d.log.Replay(ctx, userID, after, func(pos Position, thread string, env []byte) error {
			if isControl(env) {
				// A DisconnectUser request concerns the connections of
				// its time, not this one.
				last = pos
				return nil
			}
			if msg, whole, ok := f.openLog(userID, thread, env); ok && (whole || thread == c.m.uc.ThreadID) {
				c.pushReplay(f.frame(pos, msg))
				replayed++
			}
			last = pos
			return nil
		})
	} else {
		head, _ = d.log.Replay(ctx, userID, Position{}, nil)
	}
	ok := err == nil
	if !ok && !errors.Is(err, ErrPositionLost) {
		f.log.Warn("wsmanager: history replay failed; sending a reset", "err", err)
	}
	if head.Epoch != last.Epoch || head.Seq > last.Seq {
		last = head
	}
	f.resumed(c, after, ok, head, replayed)

	st := f.lockStream(userID, true)
	h.resumedTo = last
	held := h.held
	h.replaying, h.held, h.heldBytes = false, nil, 0
	n, full := 0, 0
	var slow []*Connection
	for _, m := range held {
		if !h.covers(m.pos) {
			slow = c.offer(m.framed, &n, &full, slow)
		}
	}
	st.mu.Unlock()
	f.stats.queued.Add(uint64(n + full))
	closeSlow(slow)
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
