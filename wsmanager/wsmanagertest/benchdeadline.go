package wsmanagertest

import (
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// BenchWriteMessages measures DeadlineConn.WriteMessages of batches of
// batch messages of size bytes each, one deadline per batch as wsmanager's
// writer sets it, to a Client that drains them on a loopback socket into
// one buffer, so the allocations reported are the adapter's alone. It
// skips an adapter whose Conn is not a DeadlineConn.
func BenchWriteMessages(b *testing.B, up wsmanager.Upgrader, size, batch int) {
	srv := NewServer(b, up, "")
	client := srv.Dial(b, nil)
	conn, ok := srv.Accept(b).(wsmanager.DeadlineConn)
	if !ok {
		b.Skip("the transport's Conn does not implement wsmanager.DeadlineConn")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			if _, err := client.br.Read(buf); err != nil {
				return
			}
		}
	}()
	msgs := make([][]byte, batch)
	for i := range msgs {
		msgs[i] = make([]byte, size)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size * batch))
	for b.Loop() {
		if err := conn.WriteMessages(msgs, time.Now().Add(Timeout)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = conn.CloseWithin(wsmanager.CodeNormal, "", time.Now()) // no handshake: the Client only drains
	<-done
}
