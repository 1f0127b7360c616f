package gobwasws_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// TestWriteMessagesAllocates checks doc.go's claim: once a connection's
// buffers have grown to a batch's size, writing a batch allocates nothing,
// over a real socket to a gobwas/ws client that reads it into one buffer.
func TestWriteMessagesAllocates(t *testing.T) {
	up, err := gobwasws.NewUpgrader(gobwasws.Options{PingInterval: gobwasws.NoPing})
	if err != nil {
		t.Fatal(err)
	}
	srv := wsmanagertest.NewServer(t, up, "")
	ctx := wsmanagertest.Context(t)
	nc, br, _, err := ws.Dial(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	if br != nil {
		ws.PutReader(br)
	}
	conn := srv.Accept(t).(*gobwasws.Conn)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := nc.Read(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.CloseWithin(1000, "", time.Now()) // no handshake: the reader discards frames
		<-drained
	})
	batch := make([][]byte, 16)
	for i := range batch {
		batch[i] = make([]byte, 100+i*300) // both length encodings
	}
	var werr error
	allocs := testing.AllocsPerRun(200, func() {
		if err := conn.WriteMessages(batch, time.Now().Add(wsmanagertest.Timeout)); err != nil {
			werr = err
		}
	})
	if werr != nil {
		t.Fatal(werr)
	}
	if allocs != 0 {
		t.Errorf("WriteMessages of a %d-message batch allocates %v times, want 0", len(batch), allocs)
	}
}
