package nbiows

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

// fairTurn is how many events a worker delivers for one connection before
// it lets the connections queued behind it have a turn.
const fairTurn = 16

// Kinds of event.
const (
	evMessage = iota
	evPing
	evEnd
)

// event is one thing read from the peer, delivered in order.
type event struct {
	kind byte
	data []byte // evMessage: the message
	err  error  // evEnd: what reading ended with
}

// inbox holds what was read until the Upgrader's workers deliver it, in
// order, one event at a time, to the connection's Receiver. It is safe for
// concurrent use.
type inbox struct {
	c       *Conn
	drainFn func() // c.inbox.drain, made once

	mu        sync.Mutex
	events    []event
	held      int64  // bytes of the messages in events, and of those the pull receiver holds
	pong      []byte // the payload of the latest ping
	pongDue   bool   // an evPing is queued: pong is still to be answered
	ended     bool   // the end is queued: nothing more is
	recv      wsmanager.Receiver
	pull      *pullReceiver // recv, when Read installed it
	scheduled bool          // a worker has, or will have, drainFn to run
}

func (in *inbox) init(c *Conn) {
	in.c = c
	in.drainFn = in.drain
}

// message queues msg, and reports false, queueing nothing, when it would
// take the held bytes past the backlog.
func (in *inbox) message(msg []byte) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return true
	}
	if n := int64(len(msg)); in.held > 0 && in.held+n > in.c.u.backlog {
		return false
	}
	in.held += int64(len(msg))
	in.pushLocked(event{kind: evMessage, data: msg})
	return true
}

// ping queues a ping's answer. While one is queued, a later ping replaces
// its payload instead, as RFC 6455 section 5.5.3 allows: a peer sending
// pings faster than they are answered queues one.
func (in *inbox) ping(payload []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return
	}
	in.pong = payload
	if !in.pongDue {
		in.pongDue = true
		in.pushLocked(event{kind: evPing})
	}
}

// end queues the end of reading, unless it is queued already, and sends
// the peer closeFrame, if not nil, without waiting for the events before.
func (in *inbox) end(closeFrame []byte, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ended {
		return
	}
	in.ended = true
	in.pushLocked(event{kind: evEnd, err: err})
	if closeFrame != nil {
		// At once, on a worker of its own: the peer learns why, even while
		// the messages before the end wait for a busy Receiver.
		c := in.c
		c.u.pool.submit(func() { _ = c.w.WriteControl(opClose, closeFrame, time.Now().Add(wsadapt.CloseTimeout)) })
	}
}

func (in *inbox) pushLocked(ev event) {
	in.events = append(in.events, ev)
	in.scheduleLocked()
}

func (in *inbox) scheduleLocked() {
	if in.recv != nil && !in.scheduled && len(in.events) > 0 {
		in.scheduled = true
		in.c.u.pool.submit(in.drainFn)
	}
}

// release counts n bytes of messages as handled.
func (in *inbox) release(n int) {
	in.mu.Lock()
	in.held -= int64(n)
	in.mu.Unlock()
}

// drain delivers the connection's events in order, on a worker, up to
// fairTurn of them before it queues itself again behind the others.
func (in *inbox) drain() {
	for range fairTurn {
		in.mu.Lock()
		if len(in.events) == 0 {
			in.scheduled = false
			in.mu.Unlock()
			return
		}
		ev := in.events[0]
		in.events[0] = event{}
		in.events = in.events[1:]
		if len(in.events) == 0 {
			in.events = nil
		}
		r, pulled := in.recv, in.pull != nil
		in.mu.Unlock()
		in.deliver(r, ev, pulled)
	}
	in.c.u.pool.submit(in.drainFn)
}

func (in *inbox) deliver(r wsmanager.Receiver, ev event, pulled bool) {
	c := in.c
	switch ev.kind {
	case evMessage:
		r.Message(ev.data)
		if !pulled {
			in.release(len(ev.data))
		}
	case evPing:
		in.mu.Lock()
		payload := in.pong
		in.pong, in.pongDue = nil, false
		in.mu.Unlock()
		_ = c.w.WriteControl(opPong, payload, time.Now().Add(wsadapt.CloseTimeout))
	case evEnd:
		c.stopKeepalive()
		r.End(ev.err)
	}
}

// Receive starts delivering the connection's messages to r, on the
// Upgrader's workers: r.Message with each whole message, text or binary,
// reassembled from its fragments, in order and one call at a time, each
// after the previous one returned; then r.End exactly once, after the last,
// with what ended reading. Messages read before Receive, which the
// connection held, are delivered first. Pings are answered, in order with
// the messages, by the same workers.
//
// End's error is a *wsmanager.CloseError when the peer sent a close frame
// (which a worker answers at once), and otherwise an abnormal end, never
// io.EOF: ErrClosed once CloseWithin or Close closed the connection,
// ErrUpgraderClosed once the Upgrader's Close did, ErrNoPong for a peer
// that stopped answering pings, a *wsmanager.SentCloseError wrapping
// ErrProtocol or ErrBacklog after the connection sent the peer 1002, 1007,
// 1008 or 1009, and the socket's error otherwise. It never wraps
// os.ErrDeadlineExceeded: a write past its deadline is reported by the
// write alone, and the close that follows ends reading with ErrClosed.
//
// r.Message's msg belongs to r: the connection never touches it again. A
// second Receive, or Receive after Read, gets End(ErrReceiving) at once,
// on a worker, and nothing else.
func (c *Conn) Receive(r wsmanager.Receiver) {
	in := &c.inbox
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.recv != nil {
		c.u.pool.submit(func() { r.End(ErrReceiving) })
		return
	}
	in.recv = r
	in.scheduleLocked()
}

// Read returns the next message, text or binary, reassembled from its
// fragments, for a caller that does not use Receive: the first Read
// installs a receiver that keeps what the workers deliver until Read takes
// it (Options.Backlog bounding it). It returns the error reading ended
// with, as Receive's End reports it, once every message before the end was
// returned; ErrClosed at once after CloseWithin or Close; ErrReceiving on a
// connection given to Receive; and ctx's error, leaving the connection
// readable, if ctx ends first.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	if c.shut.Load() {
		return nil, ErrClosed
	}
	r := c.inbox.puller()
	if r == nil {
		return nil, ErrReceiving
	}
	for {
		msg, ok, err := r.next()
		if ok {
			if err == nil {
				c.inbox.release(len(msg))
			}
			return msg, err
		}
		select {
		case <-r.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// puller returns the receiver Read takes from, installing it on the first
// call, or nil when Receive was given another.
func (in *inbox) puller() *pullReceiver {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.pull == nil {
		if in.recv != nil {
			return nil
		}
		in.pull = &pullReceiver{ready: make(chan struct{}, 1)}
		in.recv = in.pull
		in.scheduleLocked()
	}
	return in.pull
}

// pullReceiver is the Receiver Read installs: it keeps what is delivered
// until Read takes it. It is safe for concurrent use.
type pullReceiver struct {
	ready chan struct{} // holds a token after each delivery

	mu    sync.Mutex
	msgs  [][]byte
	ended bool
	err   error
}

func (r *pullReceiver) Message(msg []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
	r.notify()
}

func (r *pullReceiver) End(err error) {
	r.mu.Lock()
	r.ended, r.err = true, err
	r.mu.Unlock()
	r.notify()
}

func (r *pullReceiver) notify() {
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// next returns the first message kept, or the end once none is left; ok
// is false when there is neither yet.
func (r *pullReceiver) next() (msg []byte, ok bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) > 0 {
		msg = r.msgs[0]
		r.msgs[0] = nil
		r.msgs = r.msgs[1:]
		return msg, true, nil
	}
	return nil, r.ended, r.err
}

// readClosed is called by the engine, on a goroutine of its own, once the
// socket's read side is closed: by the peer, by a failure, or by this
// package.
func (c *Conn) readClosed(err error) {
	c.signalPeerDone()
	switch {
	case c.gone.Load():
		err = ErrUpgraderClosed
	case c.dead.Load():
		err = ErrNoPong
	case c.shut.Load():
		err = ErrClosed
	case err == nil:
		err = errors.New("nbiows: connection ended without a close frame")
	default:
		err = wsadapt.Abnormal("nbiows", err)
	}
	c.inbox.end(nil, err)
}
