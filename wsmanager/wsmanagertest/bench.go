package wsmanagertest

import (
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

// BenchWrite measures Conn.Write of size-byte messages from the server to a
// Client that reads them on a loopback socket, from parallel goroutines when
// parallel, which exercises the adapter's write serialisation. It reports
// allocations; run it for each adapter to compare them on equal terms.
func BenchWrite(b *testing.B, up wsmanager.Upgrader, size int, parallel bool) {
	srv := NewServer(b, up, "")
	client := srv.Dial(b, nil)
	conn := srv.Accept(b)
	ctx := Context(b)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := client.ReadMessage(); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := conn.Write(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for b.Loop() {
			if err := conn.Write(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	_ = client.Close()
	<-done
}
