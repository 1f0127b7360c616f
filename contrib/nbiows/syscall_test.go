package nbiows_test

import (
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/internal/testkit/syscount"
)

// TestWriteMessagesOneSystemCall checks doc.go's claim that a batch is one
// write system call: over a loopback TCP socket, batches of 16 messages make about
// one write system call each, where a write per message would make 16.
// It runs alone, so that no other test's writes are counted.
func TestWriteMessagesOneSystemCall(t *testing.T) {
	conn, client := pushPair(t, nbiows.Options{PingInterval: nbiows.NoPing})
	const batches, size = 200, 200
	batch := make([][]byte, 16)
	for i := range batch {
		batch[i] = make([]byte, size)
	}
	drained := make(chan error, 1)
	go func() {
		for range batches * len(batch) {
			if _, _, err := client.ReadMessage(); err != nil {
				drained <- err
				return
			}
		}
		drained <- nil
	}()
	before := syscount.Writes(t)
	for range batches {
		if err := conn.WriteMessages(batch, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	calls := syscount.Writes(t) - before
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d batches of %d messages: %d write system calls", batches, len(batch), calls)
	if calls > batches*3/2 {
		t.Errorf("%d batches of %d messages made %d write system calls, want about one per batch", batches, len(batch), calls)
	}
}
