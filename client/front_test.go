package client_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// front is the address the browser knows, a TCP proxy to one node at a
// time, as a load balancer is: the tests take it down and up (the
// browser's connections drop, and new ones are refused), and point it at
// another node, for the connections that arrive afterwards.
type front struct {
	addr string
	wg   sync.WaitGroup

	mu      sync.Mutex
	ln      net.Listener
	backend string
	conns   map[net.Conn]string // both ends of every pair, to the pair's node
}

// newFront listens on a free port of 127.0.0.1 and forwards to backend;
// the test's end closes it and waits for its goroutines.
func newFront(t *testing.T, backend string) *front {
	t.Helper()
	f := &front{backend: backend, conns: map[net.Conn]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(func() {
		f.down()
		f.wg.Wait()
	})
	return f
}

func (f *front) url() string { return "http://" + f.addr }

func (f *front) serve(ln net.Listener) {
	f.ln = ln
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			backend := f.backend
			f.mu.Unlock()
			d, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			if f.ln != ln { // taken down meanwhile
				f.mu.Unlock()
				c.Close()
				d.Close()
				return
			}
			f.conns[c], f.conns[d] = backend, backend
			f.mu.Unlock()
			f.wg.Go(func() { f.pipe(d, c) })
			f.wg.Go(func() { f.pipe(c, d) })
		}
	})
}

// pipe copies src to dst until either ends, then closes both.
func (f *front) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	f.mu.Lock()
	delete(f.conns, dst)
	delete(f.conns, src)
	f.mu.Unlock()
}

// point sends the connections that arrive from now on to backend.
func (f *front) point(backend string) {
	f.mu.Lock()
	f.backend = backend
	f.mu.Unlock()
}

// down closes the listener and drops every connection, with no close
// frame: the browser sees 1006, and its attempts are refused until up.
func (f *front) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
	}
}

// drop drops the connections to backend, as the death of its node does.
func (f *front) drop(backend string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c, b := range f.conns {
		if b == backend {
			c.Close()
		}
	}
}

// up listens again on the same address.
func (f *front) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serve(ln)
}
