package brokerkit

import (
	"sync"
	"sync/atomic"
)

// Counters are a broker's counters, each read and written atomically so
// that a Stats call takes no lock that publishing or receiving takes.
type Counters struct {
	Published     atomic.Uint64 // messages handed to, or confirmed by, the broker server (each adapter's Stats says which)
	PublishErrors atomic.Uint64 // messages Publish refused, and accepted messages lost before the server confirmed them
	Delivered     atomic.Uint64 // messages passed to the subscriber
	Dropped       atomic.Uint64 // messages dropped because the subscriber fell behind
	Malformed     atomic.Uint64 // messages under the prefix that no broker published
	Reconnects    atomic.Uint64 // connections to the broker server restored after a loss
	Connected     atomic.Bool   // the connection to the broker server is up
}

// Stats is a snapshot of Counters. The adapters' Stats types have its
// fields, in its order, and convert from it, which keeps them identical
// (and convertible to prommetrics.BrokerStats).
type Stats struct {
	Published, PublishErrors, Delivered, Dropped, Malformed, Reconnects uint64
	Connected                                                           bool
}

// Snapshot reads every counter, one by one.
func (c *Counters) Snapshot() Stats {
	return Stats{
		Published:     c.Published.Load(),
		PublishErrors: c.PublishErrors.Load(),
		Delivered:     c.Delivered.Load(),
		Dropped:       c.Dropped.Load(),
		Malformed:     c.Malformed.Load(),
		Reconnects:    c.Reconnects.Load(),
		Connected:     c.Connected.Load(),
	}
}

// Inbox is the bounded queue between a broker client's receiving goroutine
// and a subscriber's deliver function, and the goroutine that drains it in
// order. Receiving never waits for deliver: past either limit a message is
// dropped and counted. Put and Stop are safe for concurrent use.
type Inbox struct {
	deliver  func(userID string, msg []byte)
	counters *Counters
	maxMsgs  int
	maxBytes int

	mu      sync.Mutex
	queue   []inboxMsg // queue[head:] waits
	head    int
	bytes   int
	stopped bool

	ready chan struct{} // capacity 1: Put added a message
	stop  chan struct{}
	done  chan struct{} // closed when the draining goroutine returns
	once  sync.Once
}

type inboxMsg struct {
	userID string
	msg    []byte
}

// NewInbox starts the goroutine that passes each message Put to deliver,
// one at a time; Stop ends it. At most maxMsgs messages and maxBytes bytes
// of messages wait; both must be positive.
func NewInbox(maxMsgs, maxBytes int, counters *Counters, deliver func(userID string, msg []byte)) *Inbox {
	in := &Inbox{
		deliver:  deliver,
		counters: counters,
		maxMsgs:  maxMsgs,
		maxBytes: maxBytes,
		ready:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go in.drain()
	return in
}

// Put queues msg for userID, taking ownership of msg. It drops the message
// and counts it in Counters.Dropped when the limits are reached; after Stop
// it drops it without counting.
func (in *Inbox) Put(userID string, msg []byte) {
	in.mu.Lock()
	switch {
	case in.stopped:
		in.mu.Unlock()
		return
	case len(in.queue)-in.head >= in.maxMsgs || in.bytes+len(msg) > in.maxBytes:
		in.mu.Unlock()
		in.counters.Dropped.Add(1)
		return
	}
	in.queue = append(in.queue, inboxMsg{userID, msg})
	in.bytes += len(msg)
	in.mu.Unlock()
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// next takes the oldest waiting message; it reports false when none waits
// or the Inbox is stopped.
func (in *Inbox) next() (inboxMsg, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped || in.head == len(in.queue) {
		return inboxMsg{}, false
	}
	m := in.queue[in.head]
	in.queue[in.head] = inboxMsg{}
	in.head++
	if in.head == len(in.queue) {
		in.queue, in.head = in.queue[:0], 0
	}
	in.bytes -= len(m.msg)
	return m, true
}

func (in *Inbox) drain() {
	defer close(in.done)
	for {
		select {
		case <-in.stop:
			return
		case <-in.ready:
		}
		for m, ok := in.next(); ok; m, ok = in.next() {
			in.counters.Delivered.Add(1)
			in.deliver(m.userID, m.msg)
		}
	}
}

// Stop ends deliveries and waits for the one under way, if any, and for
// the draining goroutine to return. Messages still waiting are discarded.
// It is idempotent.
func (in *Inbox) Stop() {
	in.once.Do(func() {
		in.mu.Lock()
		in.stopped = true
		in.queue, in.head, in.bytes = nil, 0, 0
		in.mu.Unlock()
		close(in.stop)
	})
	<-in.done
}
