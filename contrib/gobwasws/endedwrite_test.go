package gobwasws

import (
	"context"
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
