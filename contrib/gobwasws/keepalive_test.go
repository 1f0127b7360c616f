package gobwasws

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
)

// TestKeepalive: a peer that answers pings stays connected; one that stops
// is dropped one interval after the ping it left unanswered, and Read
// reports ErrNoPong, an abnormal end.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		server, client := net.Pipe()
		c := newConn(server, nil, ws.OpText, 1<<10, interval, "")
		var answering atomic.Bool
		answering.Store(true)
		var pings atomic.Int32
		go func() {
			for {
				f, err := readServerFrame(client)
				if err != nil {
					return
				}
				if f.Header.OpCode == ws.OpPing {
					pings.Add(1)
					if answering.Load() {
						_ = ws.WriteFrame(client, ws.MaskFrame(ws.NewPongFrame(f.Payload)))
					}
				}
			}
		}()
		read := make(chan error, 1)
		go func() {
			_, err := c.Read(t.Context())
			read <- err
		}()
		time.Sleep(5 * interval)
		synctest.Wait()
		select {
		case err := <-read:
			t.Fatalf("a peer that answers pings was dropped: %v", err)
		default:
		}
		if n := pings.Load(); n < 4 {
			t.Errorf("%d pings in 5 intervals, want at least 4", n)
		}
		answering.Store(false)
		start := time.Now()
		err := <-read
		if !errors.Is(err, ErrNoPong) {
			t.Errorf("Read = %v, want ErrNoPong", err)
		}
		if d := time.Since(start); d > 2*interval {
			t.Errorf("dropped %v after the peer stopped answering, want at most two intervals", d)
		}
		_ = c.Close(1000, "")
		client.Close()
	})
}
