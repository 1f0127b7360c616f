package auth_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

func trivial() auth.Func {
	return func(_ context.Context, token string) (auth.Identity, error) {
		return auth.Identity{UserID: "u", Scopes: []string{"chat"}}, nil
	}
}

// BenchmarkHit is a cache hit for a 1 KiB token: one keyed hash (GHASH and
// one AES block), one shard lock, no clock read, and one allocation for the
// caller's copy of Scopes.
func BenchmarkHit(b *testing.B) { benchHit(b, trivial()) }

// BenchmarkHitNoScopes is BenchmarkHit for an identity without scopes: the
// hit allocates nothing.
func BenchmarkHitNoScopes(b *testing.B) {
	benchHit(b, auth.Func(func(context.Context, string) (auth.Identity, error) {
		return auth.Identity{UserID: "u", Email: "u@example.com"}, nil
	}))
}

// benchHit measures a cache hit of a 1 KiB token on backend's identity.
func benchHit(b *testing.B, backend auth.Authenticator) {
	u := newUnified(b, backend, auth.Options{})
	tok := strings.Repeat("t", 1024)
	ctx := context.Background()
	if _, err := u.Authenticate(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := u.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHitParallel is BenchmarkHit from every core, on distinct tokens.
func BenchmarkHitParallel(b *testing.B) {
	u := newUnified(b, trivial(), auth.Options{})
	ctx := context.Background()
	var next sync.Mutex
	n := 0
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		tok := strings.Repeat("t", 1000) + strconv.Itoa(n)
		n++
		next.Unlock()
		// The first call is this goroutine's miss; the loop measures hits.
		if _, err := u.Authenticate(ctx, tok); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			if _, err := u.Authenticate(ctx, tok); err != nil {
				b.Error(err) // FailNow is for the benchmark's own goroutine
				return
			}
		}
	})
}

// BenchmarkMiss authenticates a new token each time against a trivial
// backend: the cost of the path around a backend call.
func BenchmarkMiss(b *testing.B) {
	u := newUnified(b, trivial(), auth.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := u.Authenticate(ctx, "token-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiss1000 has 1,000 goroutines authenticate the same new token at
// once: those that arrive while the backend call is under way share it, and
// those that arrive after it find the result cached, so the backend is
// called once per operation.
func BenchmarkMiss1000(b *testing.B) {
	be := &fakeBackend{fn: trivial()}
	u := newUnified(b, be, auth.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		tok := "token-" + strconv.Itoa(i)
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				if _, err := u.Authenticate(ctx, tok); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(be.calls.Load())/float64(i), "backend-calls/op")
}
