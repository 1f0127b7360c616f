package gobwasws

import (
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/testkit/syscount"
)

// TestWriteMessagesOneSystemCall checks doc.go's claim that a batch is one
// writev: over a loopback TCP socket, batches of 16 messages make about
// one write system call each, where a write per message would make 16.
func TestWriteMessagesOneSystemCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(server, nil, ws.OpBinary, 1<<10, 0, "")
	defer c.CloseWithin(1000, "", time.Now())
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := peer.Read(buf); err != nil {
				return
			}
		}
	}()
	defer func() { _ = peer.Close(); <-drained }()
	batch := make([][]byte, 16)
	for i := range batch {
		batch[i] = make([]byte, 200)
	}
	const batches = 200
	before := syscount.Writes(t)
	for range batches {
		if err := c.WriteMessages(batch, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	calls := syscount.Writes(t) - before
	t.Logf("%d batches of %d messages: %d write system calls", batches, len(batch), calls)
	if calls > batches*3/2 {
		t.Errorf("%d batches of %d messages made %d write system calls, want about one per batch", batches, len(batch), calls)
	}
}
