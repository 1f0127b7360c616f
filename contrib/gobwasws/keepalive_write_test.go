package gobwasws

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestWriteBoundedBehindStuckPing: a batch that arrives while a ping is
// stuck on a peer that does not read gives up at its own deadline, not at
// the ping's much later one (one ping interval), with an error that says
// it ran out of time; and the close after it does not wait for the peer.
func TestWriteBoundedBehindStuckPing(t *testing.T) {
	t.Parallel()
	const interval = 500 * time.Millisecond
	server, client := net.Pipe() // every write waits for a read: the peer reads nothing
	defer client.Close()
	c := newConn(server, nil, ws.OpText, 1<<10, interval, "")
	// The first ping goes out after one interval and stays stuck until
	// its deadline, one interval later.
	time.Sleep(interval + interval/5)
	start := time.Now()
	err := c.WriteMessages([][]byte{[]byte("late")}, start.Add(interval/10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("WriteMessages behind a stuck ping = %v, want an error wrapping os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d > interval/2 {
		t.Errorf("WriteMessages returned after %v; its deadline was %v", d, interval/10)
	}
	start = time.Now()
	_ = c.CloseWithin(1008, "slow", time.Now().Add(time.Minute))
	if d := time.Since(start); d > interval/5 {
		t.Errorf("CloseWithin after the stuck ping took %v", d)
	}
}
