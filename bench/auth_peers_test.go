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
	"k8s.io/apiserver/pkg/authentication/authenticator"
	tokencache "k8s.io/apiserver/pkg/authentication/token/cache"
	k8suser "k8s.io/apiserver/pkg/authentication/user"
)

// errBackendDown is what a failing backend returns in the open-breaker case.
var errBackendDown = errors.New("backend down")

// errRejected is how a peer that answers "not authenticated" without an
// error reports it to the benchmarks.
var errRejected = errors.New("token rejected")

// user is the identity the hand-composed stack caches.
type user struct {
	ID     string
	Scopes []string
}

// countingBackend accepts every token as a user with one scope and counts
// its calls; each peer sees it through its own backend interface.
type countingBackend struct{ calls atomic.Int64 }

func (c *countingBackend) hand(_ context.Context, token string) (user, error) {
	c.calls.Add(1)
	return user{ID: userOf(token), Scopes: []string{"chat"}}, nil
}

func (c *countingBackend) kubernetes(_ context.Context, token string) (*authenticator.Response, bool, error) {
	c.calls.Add(1)
	return &authenticator.Response{User: &k8suser.DefaultInfo{Name: userOf(token), Groups: []string{"chat"}}}, true, nil
}

// userOf names the user of a benchmark token: a prefix, so that a backend
// that keeps it does not keep the whole token.
func userOf(token string) string { return token[:min(len(token), 16)] }

func failingHand(context.Context, string) (user, error) { return user{}, errBackendDown }

// authCase is one authenticator under test, as the benchmarks see it.
type authCase struct {
	name string
	// build returns an authenticate function over backend, or over a
	// failing backend when failing is set.
	build func(tb testing.TB, backend *countingBackend, failing bool) func(context.Context, string) error
	// noBreaker marks a peer without a circuit breaker: the open-breaker
	// case does not apply to it.
	noBreaker bool
}

// kubernetesCase is the Kubernetes API server's cached token authenticator,
// the peer that, like ssot, never keeps a token: HMAC-SHA-256 cache keys, a
// striped expiring cache, deduplicated backend calls that run detached from
// each caller's context, errors not cached. It has no circuit breaker.
func kubernetesCase() authCase {
	return authCase{name: "kubernetes", noBreaker: true, build: func(_ testing.TB, c *countingBackend, _ bool) func(context.Context, string) error {
		// The same TTLs as auth.Unified's defaults.
		a := tokencache.New(authenticator.TokenFunc(c.kubernetes), false, time.Minute, 5*time.Second)
		return func(ctx context.Context, tok string) error {
			_, ok, err := a.AuthenticateToken(ctx, tok)
			if err == nil && !ok {
				err = errRejected
			}
			return err
		}
	}}
}

// handAuth is the stack a user would compose from popular parts: an
// expiring LRU in front of singleflight in front of a circuit breaker. It
// keys its cache by the raw token, keeping every token in memory, which is
// what ssot and the Kubernetes cache exist to avoid: a reference line for
// what a map lookup costs, not a target.
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

func handCase() authCase {
	return authCase{name: "raw-token-stack", build: func(_ testing.TB, c *countingBackend, failing bool) func(context.Context, string) error {
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

// benchToken returns token number i of exactly n bytes (n ≥ 8), in the
// base64url alphabet of JSON Web Tokens; distinct i give distinct tokens.
func benchToken(n, i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for j := range b {
		b[j] = alphabet[(j*7+i)%len(alphabet)]
	}
	copy(b, strconv.Itoa(i)+".")
	return string(b)
}

// tokenSizes are the sizes the hit benchmarks run at: a short opaque
// token and a typical JSON Web Token (0.5–1.5 KiB).
var tokenSizes = []struct {
	name string
	n    int
}{{"200B", 200}, {"1KiB", 1024}}

// BenchmarkAuth measures cache hits (serial, and in parallel on one token
// per goroutine) at two token sizes, a miss, a 1,000-way concurrent miss of
// one token, and a call while the breaker is open.
func BenchmarkAuth(b *testing.B) {
	for _, ac := range append([]authCase{kubernetesCase(), handCase()}, authOursCases()...) {
		for _, size := range tokenSizes {
			b.Run("hit-"+size.name+"/"+ac.name, func(b *testing.B) {
				b.ReportAllocs()
				auth := ac.build(b, &countingBackend{}, false)
				ctx := context.Background()
				tok := benchToken(size.n, 0)
				if err := auth(ctx, tok); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if err := auth(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, size := range tokenSizes {
			b.Run("hit-parallel-"+size.name+"/"+ac.name, func(b *testing.B) {
				b.ReportAllocs()
				auth := ac.build(b, &countingBackend{}, false)
				ctx := context.Background()
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					tok := benchToken(size.n, int(next.Add(1)))
					if err := auth(ctx, tok); err != nil { // this goroutine's miss
						b.Error(err)
						return
					}
					for pb.Next() {
						if err := auth(ctx, tok); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
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
		if ac.noBreaker {
			continue
		}
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

// TestAuthKubernetesHitSkipsBackend checks that the Kubernetes peer's hit
// benchmark measures a cache hit at each token size, not a backend call.
func TestAuthKubernetesHitSkipsBackend(t *testing.T) {
	t.Parallel()
	checkHitSkipsBackend(t, kubernetesCase())
}

// checkHitSkipsBackend checks that, at every token size, c's authenticator
// calls its backend once for three authentications of one token: what its
// hit benchmark measures is a cache hit.
func checkHitSkipsBackend(t *testing.T, c authCase) {
	t.Helper()
	for _, size := range tokenSizes {
		be := &countingBackend{}
		authenticate := c.build(t, be, false)
		tok := benchToken(size.n, 0)
		for range 3 {
			if err := authenticate(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
		}
		if got := be.calls.Load(); got != 1 {
			t.Errorf("%s: backend calls = %d, want 1 (the rest are cache hits)", size.name, got)
		}
	}
}

func TestBenchTokens(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, size := range tokenSizes {
		for i := range 100 {
			tok := benchToken(size.n, i)
			if len(tok) != size.n || seen[tok] {
				t.Fatalf("benchToken(%d, %d) has length %d or repeats", size.n, i, len(tok))
			}
			seen[tok] = true
		}
	}
}
