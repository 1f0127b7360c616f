package bench

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"
)

// errBackendDown is what a failing backend returns in the open-breaker case.
var errBackendDown = errors.New("backend down")

// user is the identity the hand-composed stack caches.
type user struct {
	ID     string
	Scopes []string
}

// handAuth is the stack a user would compose without ssot: an expiring LRU
// in front of singleflight in front of a circuit breaker. It keys the cache
// by the raw token, which is cheaper than the keyed hash ssot uses, so the
// comparison is tilted in the peer's favour.
type handAuth struct {
	cache   *expirable.LRU[string, user]
	group   singleflight.Group
	breaker *gobreaker.CircuitBreaker[user]
	backend func(ctx context.Context, token string) (user, error)
}

func newHandAuth(backend func(context.Context, string) (user, error)) *handAuth {
	return &handAuth{
		cache: expirable.NewLRU[string, user](10000, nil, time.Minute),
		breaker: gobreaker.NewCircuitBreaker[user](gobreaker.Settings{
			Name:        "auth",
			Timeout:     time.Hour,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
		}),
		backend: backend,
	}
}

func (h *handAuth) Authenticate(ctx context.Context, token string) (user, error) {
	if u, ok := h.cache.Get(token); ok {
		return u, nil
	}
	v, err, _ := h.group.Do(token, func() (any, error) {
		return h.breaker.Execute(func() (user, error) { return h.backend(ctx, token) })
	})
	if err != nil {
		return user{}, err
	}
	u := v.(user)
	h.cache.Add(token, u)
	return u, nil
}

// countingBackend accepts every token and counts its calls.
type countingBackend struct{ calls atomic.Int64 }

func (c *countingBackend) hand(_ context.Context, token string) (user, error) {
	c.calls.Add(1)
	return user{ID: token, Scopes: []string{"chat"}}, nil
}

func failingHand(context.Context, string) (user, error) { return user{}, errBackendDown }

// authCase is one authenticator under test, as the benchmarks see it.
type authCase struct {
	name string
	// build returns an authenticate function over backend, or over a
	// failing backend when failing is set.
	build func(tb testing.TB, backend *countingBackend, failing bool) func(context.Context, string) error
}

func handCase() authCase {
	return authCase{name: "hand", build: func(_ testing.TB, c *countingBackend, failing bool) func(context.Context, string) error {
		be := c.hand
		if failing {
			be = failingHand
		}
		h := newHandAuth(be)
		return func(ctx context.Context, tok string) error { _, err := h.Authenticate(ctx, tok); return err }
	}}
}

// concurrentMiss is how many callers ask for the same uncached token at once.
const concurrentMiss = 1000

// BenchmarkAuth measures a cache hit, a miss, a 1,000-way concurrent miss of
// one token and a call while the breaker is open.
func BenchmarkAuth(b *testing.B) {
	for _, ac := range append([]authCase{handCase()}, authOursCases()...) {
		b.Run("hit/"+ac.name, func(b *testing.B) {
			b.ReportAllocs()
			auth := ac.build(b, &countingBackend{}, false)
			ctx := context.Background()
			if err := auth(ctx, "token-hit"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := auth(ctx, "token-hit"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("hit-parallel/"+ac.name, func(b *testing.B) {
			b.ReportAllocs()
			auth := ac.build(b, &countingBackend{}, false)
			ctx := context.Background()
			if err := auth(ctx, "token-hit"); err != nil {
				b.Fatal(err)
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := auth(ctx, "token-hit"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("miss/"+ac.name, func(b *testing.B) {
			b.ReportAllocs()
			auth := ac.build(b, &countingBackend{}, false)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if err := auth(ctx, "token-"+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("miss-1000way/"+ac.name, func(b *testing.B) {
			b.ReportAllocs()
			be := &countingBackend{}
			auth := ac.build(b, be, false)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				tok := "token-" + strconv.Itoa(i)
				var wg sync.WaitGroup
				for range concurrentMiss {
					wg.Go(func() {
						if err := auth(ctx, tok); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				i++
			}
			b.ReportMetric(float64(be.calls.Load())/float64(i), "backend-calls/op")
		})
		b.Run("open-breaker/"+ac.name, func(b *testing.B) {
			b.ReportAllocs()
			auth := ac.build(b, &countingBackend{}, true)
			ctx := context.Background()
			for i := range 10 {
				_ = auth(ctx, "trip-"+strconv.Itoa(i))
			}
			for b.Loop() {
				if err := auth(ctx, "token-open"); err == nil {
					b.Fatal("open breaker let a call through")
				}
			}
		})
	}
}

func TestAuthHandStack(t *testing.T) {
	t.Parallel()
	be := &countingBackend{}
	h := newHandAuth(be.hand)
	ctx := context.Background()
	for range 3 {
		u, err := h.Authenticate(ctx, "t1")
		if err != nil || u.ID != "t1" {
			t.Fatalf("Authenticate = %+v, %v; want t1", u, err)
		}
	}
	if got := be.calls.Load(); got != 1 {
		t.Errorf("backend calls = %d, want 1 (the rest are cache hits)", got)
	}
	f := newHandAuth(failingHand)
	for range 5 {
		if _, err := f.Authenticate(ctx, "x"); !errors.Is(err, errBackendDown) {
			t.Fatalf("err = %v, want the backend's", err)
		}
	}
	if _, err := f.Authenticate(ctx, "x"); !errors.Is(err, gobreaker.ErrOpenState) {
		t.Errorf("after 5 failures err = %v, want an open breaker", err)
	}
}
