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

// TestKeepaliveSlowReader: a peer that answers every ping is alive, also
// while the server is not reading (its handler is busy for a few
// intervals): its pongs wait in the socket's buffer, as over TCP. The
// connection must not be dropped as dead, and Read must get the pongs and
// the next message once it reads again.
func TestKeepaliveSlowReader(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		server, client := net.Pipe()
		c := newConn(server, nil, ws.OpText, 1<<10, interval, "")
		// What the client sends is buffered, as a socket buffers it
		// while the server does not read.
		out := make(chan []byte, 64)
		go func() {
			for b := range out {
				if _, err := client.Write(b); err != nil {
					return
				}
			}
		}()
		frame := func(f ws.Frame) []byte {
			b, err := ws.CompileFrame(ws.MaskFrame(f))
			if err != nil {
				t.Error(err)
			}
			return b
		}
		var pings atomic.Int32
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				f, err := readServerFrame(client)
				if err != nil {
					return
				}
				if f.Header.OpCode == ws.OpPing {
					pings.Add(1)
					out <- frame(ws.NewPongFrame(f.Payload))
				}
			}
		}()
		// The handler of the previous message runs for five intervals.
		time.Sleep(5 * interval)
		out <- frame(ws.NewTextFrame([]byte("next")))
		msg, err := c.Read(t.Context())
		if err != nil || string(msg) != "next" {
			t.Errorf("Read after a busy handler = %q, %v; want \"next\" (%d pings answered)", msg, err, pings.Load())
		}
		if errors.Is(err, ErrNoPong) {
			t.Errorf("a peer that answered %d pings was dropped as dead", pings.Load())
		}
		go func() { _ = c.Close(1000, "") }()
		// The peer answers the close as a WebSocket client does.
		synctest.Wait()
		out <- frame(ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "")))
		close(out)
		<-readerDone
		client.Close()
		synctest.Wait()
	})
}
