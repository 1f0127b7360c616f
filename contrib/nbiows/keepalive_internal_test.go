package nbiows

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pings is a socket that counts the pings written to it.
type pings struct {
	sink
	mu sync.Mutex
	n  int
}

func (p *pings) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(b) > 0 && b[0] == 0x80|opPing {
		p.n++
	}
	return len(b), nil
}

func (p *pings) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// TestKeepaliveRounds walks the keepalive through its rounds: a ping each
// interval; a peer heard from after a ping is kept; one silent for a whole
// interval after a ping is dropped, and no more pings go out.
func TestKeepaliveRounds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		u := &Upgrader{readLimit: 64, backlog: 1 << 10, op: opText, ping: interval, pool: newPool(1), conns: map[*Conn]struct{}{}}
		w := &pings{}
		c := newConn(u, "")
		u.direct = w
		defer c.stopKeepalive()
		c.startKeepalive()

		time.Sleep(interval + interval/2)
		if w.count() != 1 || c.dead.Load() {
			t.Fatalf("after one interval: %d pings, dead %v; want 1 ping", w.count(), c.dead.Load())
		}
		c.received(frameOf(opPong)) // the pong, half an interval later
		time.Sleep(interval)
		if w.count() != 2 || c.dead.Load() {
			t.Fatalf("after a pong: %d pings, dead %v; want 2 pings and alive", w.count(), c.dead.Load())
		}
		time.Sleep(interval) // nothing since the second ping
		if !c.dead.Load() {
			t.Fatal("a peer silent for a whole interval after a ping is not dropped")
		}
		time.Sleep(3 * interval)
		if w.count() != 2 {
			t.Errorf("%d pings after the peer was dropped, want none", w.count()-2)
		}
	})
}

// frameOf is an empty masked frame of op, as a client sends it.
func frameOf(op byte) []byte { return []byte{0x80 | op, 0x80, 1, 2, 3, 4} }
