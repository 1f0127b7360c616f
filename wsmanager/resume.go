package wsmanager

import "context"

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

// lockStream returns userID's stream on this node, locked. It creates the
// stream if create is set, and returns nil if there is none and create is
// not set. A stream the janitor released in between is never returned.
func (f *Factory) lockStream(userID string, create bool) *stream {
	for {
		v, ok := f.streams.Load(userID)
		if !ok {
			if !create {
				return nil
			}
			v, _ = f.streams.LoadOrStore(userID, newStream(&f.historyBytes))
		}
		s := v.(*stream)
		s.mu.Lock()
		if !s.released {
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

// sweepStreams releases the streams of users who have no Manager here any
// more (a Manager outlives its last connection by IdleTimeout), however
// often they are still sent to, and forgets the replay state of
// connections that have closed. A stream made by a join that is
// registering its connection is not released: the join holds the stream's
// lock until its Manager is there.
func (f *Factory) sweepStreams() {
	f.streams.Range(func(key, v any) bool {
		userID, s := key.(string), v.(*stream)
		s.mu.Lock()
		// Asked under the stream's lock, after any join holding it has
		// registered its connection.
		active := f.holdsUser(userID)
		for c := range s.holds {
			if c.isDone() {
				delete(s.holds, c)
			}
		}
		if !active {
			s.release()
			f.streams.Delete(userID)
		}
		s.mu.Unlock()
		return true
	})
}
