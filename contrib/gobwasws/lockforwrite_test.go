package gobwasws

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestEndedWriteLeavesOthersAlone: a WriteBatch with a context that has
// ended, called while another goroutine's write is making progress,
// returns its context's error and leaves that write, and the connection,
// alone.
func TestEndedWriteLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer client.Close()
	go func() { // a slow but steady reader
		buf := make([]byte, 1024)
		for {
			if _, err := client.Read(buf); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	c := newConn(server, nil, ws.OpText, 1<<10, 0, "")
	big := make([]byte, 512<<10)
	res := make(chan error, 1)
	go func() { res <- c.WriteBatch(context.Background(), [][]byte{big}) }()
	time.Sleep(20 * time.Millisecond) // the big write is under way
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WriteBatch(dead, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("write with an ended context succeeded")
	}
	if err := <-res; err != nil {
		t.Errorf("a healthy write was broken by another call's ended context: %v", err)
	}
	_ = client.Close() // so that Close does not wait for the peer's answer
	_ = c.Close(1000, "")
}

// TestWriteBehindStuckWriteHonoursContext: a batch waiting behind another
// goroutine's batch stuck on a peer that does not read gives up when its
// own context ends, and the write under way is left alone.
func TestWriteBehindStuckWriteHonoursContext(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	c := newConn(server, nil, ws.OpBinary, 1<<10, 0, "")
	first := make(chan error, 1)
	go func() { first <- c.WriteBatch(context.Background(), [][]byte{[]byte("stuck")}) }()
	time.Sleep(20 * time.Millisecond) // the first batch holds the lock, unread
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.WriteBatch(ctx, [][]byte{[]byte("bounded")}); err == nil {
		t.Fatal("a batch behind a stuck one succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v; its context ended after 50ms", d)
	}
	select {
	case err := <-first:
		t.Fatalf("the stuck batch ended (%v): it was interrupted", err)
	default:
	}
	go func() { _, _ = io.Copy(io.Discard, client) }()
	if err := <-first; err != nil {
		t.Errorf("the stuck batch, once read: %v", err)
	}
	_ = client.Close()
	_ = c.Close(1000, "")
}
