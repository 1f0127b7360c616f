package bench

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The clients' reconnection backoff: full jitter, a random wait between
// zero and rollingBackoff × 2^attempt, at most rollingBackoffCap.
const (
	rollingBackoff    = 100 * time.Millisecond
	rollingBackoffCap = 2 * time.Second
)

// fullJitter is the wait before a client's attempt-th reconnection attempt
// (0 after a connection closed, more after each failed dial).
func fullJitter(attempt int) time.Duration {
	ceiling := min(rollingBackoff<<min(attempt, 16), rollingBackoffCap)
	return rand.N(ceiling)
}

// rollingCluster is the driver's view of the nodes: where each listens,
// which are live (a client may pick them), the connections each holds and
// when each accepted one. It is safe for concurrent use.
type rollingCluster struct {
	mu      sync.Mutex
	addrs   []string
	live    []bool
	held    []int
	accepts [][]time.Time
}

func newRollingCluster(addrs []string) *rollingCluster {
	c := &rollingCluster{addrs: addrs, live: make([]bool, len(addrs)), held: make([]int, len(addrs)), accepts: make([][]time.Time, len(addrs))}
	for i := range c.live {
		c.live[i] = true
	}
	return c
}

// pick returns a live node other than last, at random; or last itself if
// it is the only live one; false if none is live.
func (c *rollingCluster) pick(last int) (int, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var others []int
	for i, ok := range c.live {
		if ok && i != last {
			others = append(others, i)
		}
	}
	switch {
	case len(others) > 0:
		n := others[rand.N(len(others))]
		return n, c.addrs[n], true
	case last >= 0 && c.live[last]:
		return last, c.addrs[last], true
	}
	return 0, "", false
}

// node returns node n's address, if it is live.
func (c *rollingCluster) node(n int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[n], c.live[n]
}

// setLive takes node n out of the live set (before its SIGTERM) or puts it
// back with its new address (once it listens again).
func (c *rollingCluster) setLive(n int, addr string, live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live[n] = live
	if addr != "" {
		c.addrs[n] = addr
	}
}

func (c *rollingCluster) accepted(n int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held[n]++
	c.accepts[n] = append(c.accepts[n], at)
}

func (c *rollingCluster) left(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held[n]--
}

// holding returns the connections node n holds now.
func (c *rollingCluster) holding(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[n]
}

// acceptsOf returns when node n accepted each connection, in order.
func (c *rollingCluster) acceptsOf(n int) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.accepts[n]...)
}

// rollingClient is one user's WebSocket client. It keeps the position of
// the last message it handled and, whenever its connection closes,
// reconnects to another live node with ?resume=<position>. Messages carry
// "<n> <sent>": the user's message number, from 1, and the time the sender
// sent it (Unix nanoseconds).
type rollingClient struct {
	user  string
	first int // the node of the first connection

	// Owned by run's goroutine until it returns.
	pos        string
	next       int64 // the number of the next message expected
	connects   int
	duplicates int64
	lost       int64
	resets     int64 // resets on a reconnection
	malformed  int64
	latencies  []time.Duration

	reset0    bool          // the first connection's reset frame came
	ready     chan struct{} // closed on the first connection's reset frame
	handled1  chan struct{} // closed once a message is handled
	firstOnce sync.Once

	mu       sync.Mutex
	handled  int64 // next-1, for the driver
	want     int64 // 0 until the driver knows how many were sent
	done     chan struct{}
	doneOnce sync.Once
}

func newRollingClient(user string, first int) *rollingClient {
	return &rollingClient{user: user, first: first, next: 1, ready: make(chan struct{}), handled1: make(chan struct{}), done: make(chan struct{})}
}

// run connects, reads and reconnects until ctx ends.
func (c *rollingClient) run(ctx context.Context, cl *rollingCluster, hc *http.Client) {
	last := -1
	for attempt := 0; ctx.Err() == nil; {
		node, addr, ok := c.first, "", false
		if c.connects == 0 && attempt == 0 {
			addr, ok = cl.node(c.first)
		} else {
			node, addr, ok = cl.pick(last)
		}
		if ok {
			if conn, err := c.dial(ctx, hc, addr); err == nil {
				cl.accepted(node, time.Now())
				c.connects++
				attempt = 0
				c.read(ctx, conn)
				cl.left(node)
				last = node
				if !sleepCtx(ctx, fullJitter(0)) {
					return
				}
				continue
			}
		}
		attempt++
		if !sleepCtx(ctx, fullJitter(attempt)) {
			return
		}
	}
}

func (c *rollingClient) dial(ctx context.Context, hc *http.Client, addr string) (*websocket.Conn, error) {
	u := "ws://" + addr + "/ws"
	if c.pos != "" {
		u += "?resume=" + url.QueryEscape(c.pos)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient: hc,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + c.user}},
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, err
}

// read handles the connection's messages until it closes, for any reason.
func (c *rollingClient) read(ctx context.Context, conn *websocket.Conn) {
	defer conn.CloseNow()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		c.handle(data)
	}
}

// handle checks one frame: a reset (a position alone) or "<position>
// <n> <sent>".
func (c *rollingClient) handle(data []byte) {
	i := bytes.IndexByte(data, ' ')
	if i < 0 {
		c.pos = string(data)
		if c.connects == 1 && !c.reset0 {
			c.reset0 = true
			close(c.ready)
			return
		}
		c.resets++
		return
	}
	pos, rest := data[:i], data[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 || string(pos) == "-" {
		c.malformed++
		return
	}
	n, err1 := strconv.ParseInt(string(rest[:j]), 10, 64)
	sent, err2 := strconv.ParseInt(string(rest[j+1:]), 10, 64)
	if err1 != nil || err2 != nil {
		c.malformed++
		return
	}
	c.pos = string(pos)
	switch {
	case n < c.next:
		c.duplicates++
		return
	case n > c.next:
		c.lost += n - c.next
	}
	c.next = n + 1
	c.latencies = append(c.latencies, time.Since(time.Unix(0, sent)))
	c.firstOnce.Do(func() { close(c.handled1) })
	c.mu.Lock()
	c.handled = n
	c.check()
	c.mu.Unlock()
}

// expect tells the client how many messages its user was sent.
func (c *rollingClient) expect(n int64) {
	c.mu.Lock()
	c.want = n
	c.check()
	c.mu.Unlock()
}

// check closes done once the client has handled what its user was sent.
// The caller holds c.mu.
func (c *rollingClient) check() {
	if c.want > 0 && c.handled >= c.want {
		c.doneOnce.Do(func() { close(c.done) })
	}
}

// sleepCtx waits d, or until ctx ends; it reports whether ctx is still on.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
