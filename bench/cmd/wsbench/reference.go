package main

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// refPeer is the near-limit reference: no manager, gobwas/ws for the
// handshake and the framing, each broadcast encoded into one frame once,
// and everything queued for a connection written with one writev
// (net.Buffers). A connection has a writer goroutine only while it has
// something to write; one whose queue reaches queueSize frames is dropped.
// Its reader is a goroutine of its own, started once the handshake is
// done, so that net/http's serving goroutine, whose stack the request has
// grown, ends with the handler instead of living as long as the
// connection. Idle clients are a set of their own, which broadcasts pass
// by.
type refPeer struct {
	mu        sync.Mutex
	set, idle map[*refConn]struct{}
	closed    bool
	// goroutines are every connection's reader and writer.
	goroutines sync.WaitGroup
}

type refConn struct {
	nc      net.Conn
	mu      sync.Mutex
	queue   [][]byte
	spare   [][]byte // the last batch's array, reused for the next queue
	writing bool
	dead    bool
}

// refWriteTimeout bounds each batch, as the other peers bound each write.
const refWriteTimeout = 10 * time.Second

func newRefPeer() (peer, error) {
	return &refPeer{set: map[*refConn]struct{}{}, idle: map[*refConn]struct{}{}}, nil
}

func (p *refPeer) handle(w http.ResponseWriter, r *http.Request) {
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	c := &refConn{nc: nc}
	set := p.set
	if isIdle(r) {
		set = p.idle
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = nc.Close()
		return
	}
	set[c] = struct{}{}
	var rd io.Reader = nc
	if rw.Reader.Buffered() > 0 {
		rd = rw.Reader
	}
	p.goroutines.Go(func() { p.read(c, rd) })
}

// read reads frames until the client goes: clients send nothing but their
// close.
func (p *refPeer) read(c *refConn, rd io.Reader) {
	defer p.drop(c)
	for {
		h, err := ws.ReadHeader(rd)
		if err != nil || h.OpCode == ws.OpClose {
			return
		}
		if _, err := io.CopyN(io.Discard, rd, h.Length); err != nil {
			return
		}
	}
}

func (p *refPeer) drop(c *refConn) {
	p.mu.Lock()
	delete(p.set, c)
	delete(p.idle, c)
	p.mu.Unlock()
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	_ = c.nc.Close()
}

func (p *refPeer) broadcast(msg []byte) {
	frame := ws.MustCompileFrame(ws.NewBinaryFrame(msg))
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.set {
		p.enqueue(c, frame)
	}
}

// enqueue queues frame for c and starts c's writer if it has none.
func (p *refPeer) enqueue(c *refConn, frame []byte) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= queueSize {
		c.dead = true
		c.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	c.queue = append(c.queue, frame)
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		p.goroutines.Go(c.flush)
	}
}

// flush writes what is queued, one writev per batch, until the queue is
// empty or a write fails.
func (c *refConn) flush() {
	for {
		c.mu.Lock()
		batch := c.queue
		if len(batch) == 0 || c.dead {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.queue = c.spare[:0]
		c.mu.Unlock()

		_ = c.nc.SetWriteDeadline(time.Now().Add(refWriteTimeout))
		bufs := net.Buffers(batch)
		_, err := bufs.WriteTo(c.nc)
		clear(batch)
		c.mu.Lock()
		c.spare = batch[:0]
		if err != nil {
			c.dead = true
			c.writing = false
		}
		c.mu.Unlock()
		if err != nil {
			_ = c.nc.Close()
			return
		}
	}
}

func (p *refPeer) conns() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.set) + len(p.idle) }

func (p *refPeer) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.set {
		_ = c.nc.Close()
	}
	for c := range p.idle {
		_ = c.nc.Close()
	}
	p.mu.Unlock()
	p.goroutines.Wait()
}
