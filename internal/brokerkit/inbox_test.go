package brokerkit_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

func TestInboxDeliversInOrder(t *testing.T) {
	t.Parallel()
	var c brokerkit.Counters
	got := make(chan string, 100)
	in := brokerkit.NewInbox(100, 1<<20, &c, func(u string, m []byte) { got <- u + ":" + string(m) })
	var want []string
	for i := range 100 {
		in.Put("u", fmt.Appendf(nil, "%d", i))
		want = append(want, fmt.Sprintf("u:%d", i))
	}
	var seen []string
	for range want {
		seen = append(seen, <-got)
	}
	in.Stop()
	if !slices.Equal(seen, want) {
		t.Errorf("delivered %v", seen)
	}
	if c.Delivered.Load() != 100 || c.Dropped.Load() != 0 {
		t.Errorf("delivered %d, dropped %d", c.Delivered.Load(), c.Dropped.Load())
	}
}

// A subscriber stuck in deliver holds one message; behind it exactly the
// limit waits and every other message is dropped and counted.
func TestInboxDropsPastTheLimitsAndCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		maxMsgs, maxByte int
		waiting          int
	}{
		{"messages", 2, 1 << 20, 2},
		{"bytes", 100, 25, 2}, // 10-byte messages: two fit in 25 bytes
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c brokerkit.Counters
			release := make(chan struct{})
			entered := make(chan struct{}, 100)
			var mu sync.Mutex
			var got []string
			in := brokerkit.NewInbox(tc.maxMsgs, tc.maxByte, &c, func(_ string, m []byte) {
				entered <- struct{}{}
				<-release
				mu.Lock()
				got = append(got, string(m))
				mu.Unlock()
			})
			in.Put("u", []byte("message-00"))
			<-entered // the subscriber now holds the first message
			for i := 1; i < 20; i++ {
				in.Put("u", fmt.Appendf(nil, "message-%02d", i))
			}
			if d := c.Dropped.Load(); d != uint64(19-tc.waiting) {
				t.Fatalf("Dropped = %d, want %d", d, 19-tc.waiting)
			}
			close(release)
			for range tc.waiting {
				<-entered
			}
			in.Stop()
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"message-00", "message-01", "message-02"}; !slices.Equal(got, want) {
				t.Errorf("delivered %v, want %v", got, want)
			}
			if c.Delivered.Load()+c.Dropped.Load() != 20 {
				t.Errorf("delivered %d + dropped %d != 20", c.Delivered.Load(), c.Dropped.Load())
			}
		})
	}
}

func TestInboxStopWaitsAndEndsDeliveries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var c brokerkit.Counters
		entered, release := make(chan struct{}, 10), make(chan struct{})
		in := brokerkit.NewInbox(10, 1<<20, &c, func(string, []byte) {
			entered <- struct{}{}
			<-release
		})
		in.Put("u", []byte("a"))
		in.Put("u", []byte("b"))
		<-entered
		stopped := make(chan struct{})
		go func() {
			in.Stop()
			close(stopped)
		}()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("Stop returned while a delivery was under way")
		default:
		}
		close(release)
		<-stopped
		in.Put("u", []byte("c"))
		in.Stop() // idempotent
		if c.Delivered.Load() != 1 || c.Dropped.Load() != 0 || len(entered) != 0 {
			t.Errorf("after Stop: delivered %d, dropped %d; want the waiting and later messages discarded uncounted", c.Delivered.Load(), c.Dropped.Load())
		}
	})
}

func TestLiveStopAll(t *testing.T) {
	t.Parallel()
	var c brokerkit.Counters
	var set brokerkit.Live
	a := brokerkit.NewInbox(1, 1, &c, func(string, []byte) {})
	b := brokerkit.NewInbox(1, 1, &c, func(string, []byte) {})
	if !set.Add(a) || !set.Add(b) {
		t.Fatal("Add refused on an open set")
	}
	if err := set.Unsubscribe(b)(); err != nil {
		t.Fatal(err)
	}
	set.StopAll() // stops a; goleak checks both goroutines ended
	late := brokerkit.NewInbox(1, 1, &c, func(string, []byte) {})
	defer late.Stop()
	if set.Add(late) {
		t.Error("Add accepted an Inbox after StopAll")
	}
}
