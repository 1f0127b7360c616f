package auth

import (
	"context"
	"testing"
	"time"
)

// TestStatsTakesNoLock: Stats answers while every lock an authentication
// takes (the Unified's and each cache shard's) is held, so a metrics scrape
// can never hold up a request.
func TestStatsTakesNoLock(t *testing.T) {
	t.Parallel()
	u, err := New(Func(func(context.Context, string) (Identity, error) { return Identity{UserID: "u"}, nil }), Options{CacheSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(context.Background())
	if _, err := u.Authenticate(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	for i := range u.cache.shards {
		u.cache.shards[i].mu.Lock()
	}
	got := make(chan Stats, 1)
	go func() { got <- u.Stats() }()
	defer func() { // release the locks even when Stats waits for them
		for i := range u.cache.shards {
			u.cache.shards[i].mu.Unlock()
		}
		u.mu.Unlock()
	}()
	select {
	case st := <-got:
		if st.Hits != 1 || st.Misses != 1 || st.BackendCalls != 1 || st.Entries != 1 || st.Breaker != BreakerClosed {
			t.Errorf("stats %+v", st)
		}
	case <-time.After(10 * time.Second):
		t.Error("Stats waited for a lock that authentication takes")
	}
}
