package gobwasws

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestWriteBoundedBehindStuckPing: a write that arrives while a ping is
// stuck on a peer that does not read gives up when its own context ends,
// not when the ping's much later deadline (one ping interval) passes.
func TestWriteBoundedBehindStuckPing(t *testing.T) {
	t.Parallel()
	const interval = 500 * time.Millisecond
	server, client := net.Pipe() // every write waits for a read: the peer reads nothing
	c := newConn(server, nil, ws.OpText, 1<<10, interval, "")
	defer c.Close(1000, "")
	defer client.Close() // first, so that Close does not wait for the peer's answer
	// The first ping goes out after one interval and stays stuck until
	// its deadline, one interval later.
	time.Sleep(interval + interval/5)
	ctx, cancel := context.WithTimeout(context.Background(), interval/10)
	defer cancel()
	start := time.Now()
	err := c.WriteBatch(ctx, [][]byte{[]byte("late")})
	if err == nil {
		t.Fatal("WriteBatch to a peer that does not read succeeded")
	}
	if d := time.Since(start); d > interval/2 {
		t.Errorf("WriteBatch returned after %v; its context ended after %v", d, interval/10)
	}
	// The interrupt ended the ping alone: once the peer reads, writes with
	// a context that never ends go through.
	go func() { _, _ = io.Copy(io.Discard, client) }()
	for i := range 3 {
		if err := c.WriteBatch(context.Background(), [][]byte{[]byte("later")}); err != nil {
			t.Fatalf("write %d after the interrupted ping: %v", i, err)
		}
		time.Sleep(interval / 10)
	}
}
