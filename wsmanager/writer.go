package wsmanager

import (
	"runtime"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// lingerYields is how many times a writer that found its queue empty yields
// before it exits: a fan-out enqueues message after message, and giving the
// producer a few scheduling slots to queue the next is cheaper than exiting
// and being started again for it.
const lingerYields = 3

// writeLoop is the connection's writer. At most one runs per connection,
// started when there is something to write and the machine allows it. It
// asks the machine before each write: while it is operational, queued
// messages are handed to the transport in order, all that wait in one
// WriteBatch when the transport batches, one Write each otherwise; in any
// other live state it exits, leaving the queue as it is; in Closing it
// writes what is still queued if the close delivers it, or discards it,
// then closes the transport; in Closed or Failed (a machine moved on from
// Closing by someone else) it discards and closes the transport at once.
func (c *Connection) writeLoop() {
	lingered := 0
	// Messages written are counted when the writer parks, closes, or has
	// written flushWritten, not one by one: the shared counter would
	// otherwise bounce between every writer's core on every message.
	written := 0
	flush := func() {
		if written > 0 {
			c.m.f.stats.written.Add(uint64(written))
			written = 0
		}
	}
	// Yield once before the first batch: a fan-out queues to thousands
	// of connections in a row, and by the time this writer runs again its
	// queue has often grown, so more goes out in one write.
	runtime.Gosched()
	c.mu.Lock()
	batch := c.spare
	c.spare = nil
	c.mu.Unlock()
	for {
		c.mu.Lock()
		st := c.mach.State()
		// Closed or Failed here means someone moved the machine on from
		// Closing before the transport was closed: close it at once.
		if st >= statemachine.Closing && (st != statemachine.Closing || c.q.len() == 0 || c.end.discard || c.aborted) {
			flush()
			c.shutdownLocked()
			return
		}
		if st < statemachine.Closing && !st.IsOperational() {
			flush()
			c.parkLocked(batch)
			return
		}
		if c.q.len() == 0 {
			if lingered < lingerYields {
				lingered++
				c.mu.Unlock()
				runtime.Gosched()
				continue
			}
			flush()
			c.parkLocked(batch)
			return
		}
		lingered = 0
		if written >= flushWritten {
			flush()
		}
		batch = c.q.popN(batch[:0], maxBatch)
		c.mu.Unlock()
		written += c.writeBatch(batch)
		clear(batch)
	}
}

// slowCloseGrace is how long the close frame of a slow consumer's close may
// take: a peer whose queue filled may still be reading, and one that is not
// must not hold the close for long.
const slowCloseGrace = time.Second

// maxBatch is the most messages one WriteBatch is handed: enough that a
// backlog goes out in few system calls, few enough that one batch's iovecs
// stay within what writev takes at once.
const maxBatch = 1024

// flushWritten is how many messages a busy writer writes between updates of
// Stats.MessagesWritten.
const flushWritten = 256

// parkLocked ends a writer that has nothing it may write, keeping its
// batch buffer, and the queue's ring, for the next one: a connection that
// is sent bursts parks and restarts its writer between them, and growing
// both again each time would allocate for every burst. The janitor trims
// them once the connection is idle (trimIdle). c.mu is held on entry and
// released.
func (c *Connection) parkLocked(batch [][]byte) {
	c.writer = false
	c.spare = batch[:0]
	c.mu.Unlock()
}

// trimIdle releases the large queue ring and batch buffer of a connection
// with no writer and nothing queued, keeping small ones, so that a
// connection that was sent a burst costs little once it is idle again. The
// janitor calls it on every sweep.
func (c *Connection) trimIdle() {
	c.mu.Lock()
	if !c.writer && c.q.len() == 0 {
		c.q.shrink()
		if cap(c.spare) > idleQueueBuf {
			c.spare = nil
		}
	}
	c.mu.Unlock()
}

// writeBatch writes msgs in one call, bounded by one deadline, and returns
// how many it wrote: all of them, or none if it failed.
func (c *Connection) writeBatch(msgs [][]byte) int {
	deadline := time.Now().Add(c.m.f.opts.WriteTimeout)
	if err := c.out.WriteMessages(msgs, deadline); err != nil {
		c.writeFailed(len(msgs), err, deadline)
		return 0
	}
	return len(msgs)
}

// writeFailed closes the connection after a call carrying n messages
// failed: with 1008 if it timed out, 1011 otherwise. The n messages count
// as discarded: the transport cannot say how much of them the peer
// received.
func (c *Connection) writeFailed(n int, err error, deadline time.Time) {
	f := c.m.f
	f.stats.discarded.Add(uint64(n))
	c.mu.Lock()
	aborted := c.aborted
	c.mu.Unlock()
	late := !aborted && timedOut(err, deadline)
	// No later write can succeed: a close already under way stops
	// delivering and discards the rest.
	c.abortWrites()
	if late {
		if c.requestClose(causeWriteTimeout, CodePolicyViolation, reasonTimeout, nil) {
			f.stats.slowCloses.Add(1)
		}
		return
	}
	c.requestClose(causeWrite, CodeInternalError, reasonInternal, err)
}

// shutdownLocked discards what is still queued, closes the transport with
// the recorded code and reason, and cancels the handlers' context. It is
// the writer's last act; c.mu is held on entry and released.
func (c *Connection) shutdownLocked() {
	discarded := c.q.clear()
	c.q.shrink()
	end := c.end
	c.mu.Unlock()
	f := c.m.f
	if discarded > 0 {
		f.stats.discarded.Add(uint64(discarded))
	}
	// A close frame is worth WriteTimeout to a peer that reads, and a
	// moment to one that may not; an aborted transport writes none.
	grace := f.opts.WriteTimeout
	if end.why == causeSlow {
		grace = slowCloseGrace
	}
	err := c.out.CloseWithin(end.code, end.reason, time.Now().Add(grace))
	if err != nil && end.why != causePeer {
		f.log.Debug("wsmanager: close", "conn", c.id, "err", err)
	}
	c.mu.Lock()
	c.recordEndingLocked(err)
	// Read with the ending recorded: servePush, which sets pushed, then
	// sees either the ending (and settles for this close itself) or none
	// (and this writer settles): once, either way.
	pushed := c.pushed
	c.mu.Unlock()
	c.cancel()
	if pushed != nil {
		// A PushConn's connection finishes here if reading already ended.
		pushed.transportClosed()
	}
}
