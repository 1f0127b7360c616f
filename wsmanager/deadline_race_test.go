package wsmanager

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestWriteDeadlineAfterFuncRacingEnd: a transport may derive a context from
// its write's (context.WithCancel, WithTimeout, AfterFunc) while the write
// is being cut short. The context package calls the parent's AfterFunc
// method with the child's lock held, so AfterFunc must never call f on the
// caller's goroutine, as context.AfterFunc itself never does: that would
// cancel the child under its own lock and deadlock.
func TestWriteDeadlineAfterFuncRacingEnd(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20000 {
			w := new(writeDeadline)
			*w = newWriteDeadline(time.Hour)
			var wg sync.WaitGroup
			wg.Go(w.abort)
			ctx, cancel := context.WithCancel(w)
			<-ctx.Done() // the abort reaches the derived context
			cancel()
			wg.Wait()
			w.stop()
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("context.WithCancel on a write's context deadlocked against abort")
	}
}
