package redisbroker_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

// proxy is a TCP proxy on 127.0.0.1 in front of a real redis-server, which
// a test uses to hold what a broker sends or what Redis replies, and to cut
// the broker off, at the moment it chooses, without a timer.
type proxy struct {
	target string
	l      net.Listener
	wg     sync.WaitGroup // the accept loop and the pumps

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	refusing bool
	// gates[requests] and gates[replies] are closed while data flows that
	// way; a held direction has an open channel.
	gates [2]chan struct{}
}

const (
	requests = 0 // broker to Redis
	replies  = 1 // Redis to broker
)

// startProxy starts a proxy to target (host:port), stopped when the test
// ends.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, l: l, conns: map[net.Conn]struct{}{}}
	for dir := range p.gates {
		p.gates[dir] = make(chan struct{})
		close(p.gates[dir])
	}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		l.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// URL returns the redis:// URL of the proxy with the given user
// information ("" or "user:password@").
func (p *proxy) URL(userinfo string) string {
	return fmt.Sprintf("redis://%s%s", userinfo, p.l.Addr())
}

func (p *proxy) accept() {
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		refusing := p.refusing
		if !refusing {
			p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		}
		p.mu.Unlock()
		if refusing {
			client.Close()
			server.Close()
			continue
		}
		p.wg.Go(func() { p.pump(server, client, requests) })
		p.wg.Go(func() { p.pump(client, server, replies) })
	}
}

// pump copies src to dst, each read waiting for the direction's gate to
// be open before it is written.
func (p *proxy) pump(dst, src net.Conn, dir int) {
	defer func() {
		dst.Close()
		src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gates[dir]
			p.mu.Unlock()
			<-gate
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// hold stops data flowing in direction dir (requests or replies) from now
// on: what arrives waits in the proxy until release or cut.
func (p *proxy) hold(dir int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gates[dir]:
		p.gates[dir] = make(chan struct{})
	default: // already held
	}
}

// release lets everything held flow on.
func (p *proxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, gate := range p.gates {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}
}

// cut closes every connection through the proxy, discarding what it held,
// and closes every connection made from now on at once, until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	p.refusing = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.release() // a pump waiting at a gate then fails to write and ends
}

// restore makes the proxy forward new connections again.
func (p *proxy) restore() {
	p.mu.Lock()
	p.refusing = false
	p.mu.Unlock()
}
