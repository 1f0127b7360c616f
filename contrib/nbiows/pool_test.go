package nbiows

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolBounded: every task runs, never more than max at once, and
// close waits for the last.
func TestPoolBounded(t *testing.T) {
	t.Parallel()
	const max, tasks = 3, 200
	p := newPool(max)
	var running, peak, done atomic.Int32
	var mu sync.Mutex
	for range tasks {
		p.submit(func() {
			n := running.Add(1)
			mu.Lock()
			if n > peak.Load() {
				peak.Store(n)
			}
			mu.Unlock()
			time.Sleep(100 * time.Microsecond)
			running.Add(-1)
			done.Add(1)
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.close(ctx); err != nil {
		t.Fatal(err)
	}
	if done.Load() != tasks || peak.Load() > max {
		t.Errorf("%d of %d tasks ran, at most %d at once; want all, at most %d", done.Load(), tasks, peak.Load(), max)
	}
}

// TestPoolCloseGivesUp: close returns ctx's error while a task still runs.
func TestPoolCloseGivesUp(t *testing.T) {
	t.Parallel()
	p := newPool(1)
	release := make(chan struct{})
	p.submit(func() { <-release })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.close(ctx); err == nil {
		t.Error("close returned nil with a task still running")
	}
	close(release)
	if err := p.close(context.Background()); err != nil {
		t.Errorf("close after the task ended: %v", err)
	}
}
