package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts auth.Options
	}{
		{"negative timeout", auth.Options{Timeout: -1}},
		{"negative cache size", auth.Options{CacheSize: -1}},
		{"negative negative cache size", auth.Options{NegativeCacheSize: -1}},
		{"negative max len", auth.Options{Extract: auth.Extractor{MaxLen: -1}}},
		{"negative failures", auth.Options{Breaker: auth.BreakerOptions{Failures: -1}}},
		{"negative cooldown", auth.Options{Breaker: auth.BreakerOptions{Cooldown: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := auth.New(users(), tt.opts); !errors.Is(err, auth.ErrInvalidOptions) {
				t.Errorf("New = %v, want ErrInvalidOptions", err)
			}
		})
	}
	if _, err := auth.New(nil, auth.Options{}); !errors.Is(err, auth.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v", err)
	}
	if _, err := auth.New(auth.Func(nil), auth.Options{}); !errors.Is(err, auth.ErrInvalidOptions) {
		t.Errorf("New(Func(nil)) = %v: a nil function would fail every request as ErrUnavailable", err)
	}
}

func TestCacheHitsAndIsolation(t *testing.T) {
	t.Parallel()
	b := users()
	u := newUnified(t, b, auth.Options{})
	ctx := context.Background()
	alice, err := u.Authenticate(ctx, "token-alice")
	if err != nil || alice.UserID != "alice" {
		t.Fatalf("alice = %+v, %v", alice, err)
	}
	alice.Scopes[0] = "admin" // the caller's copy, not the cache's
	again, _ := u.Authenticate(ctx, "token-alice")
	if diff := cmp.Diff(auth.Identity{UserID: "alice", Scopes: []string{"chat"}}, again); diff != "" {
		t.Errorf("cached identity changed through a returned one (-want +got):\n%s", diff)
	}
	bob, _ := u.Authenticate(ctx, "token-bob")
	if bob.UserID != "bob" {
		t.Errorf("bob = %+v: the cache is not keyed by the token", bob)
	}
	st := u.Stats()
	if b.calls.Load() != 2 || st.Hits != 1 || st.Misses != 2 || st.BackendCalls != 2 || st.Entries != 2 {
		t.Errorf("backend calls %d, stats %+v", b.calls.Load(), st)
	}
}

func TestSuccessTTLCappedAtExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		exp := time.Now().Add(20 * time.Second)
		b := &fakeBackend{fn: func(_ context.Context, token string) (auth.Identity, error) {
			if token == "short" {
				return auth.Identity{UserID: "s", ExpiresAt: exp}, nil
			}
			return auth.Identity{UserID: "l"}, nil
		}}
		u := newUnified(t, b, auth.Options{CacheTTL: time.Minute})
		ctx := context.Background()
		for _, tok := range []string{"short", "long"} {
			if _, err := u.Authenticate(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(19 * time.Second)
		u.Authenticate(ctx, "short")
		if b.calls.Load() != 2 {
			t.Fatalf("calls = %d before ExpiresAt", b.calls.Load())
		}
		time.Sleep(time.Second)
		synctest.Wait() // the expiry timer has run
		if _, err := u.Authenticate(ctx, "short"); !errors.Is(err, auth.ErrExpired) {
			t.Errorf("after ExpiresAt the identity was served: %v", err)
		}
		if b.calls.Load() != 3 {
			t.Errorf("calls = %d: the entry outlived its ExpiresAt", b.calls.Load())
		}
		time.Sleep(39 * time.Second)
		u.Authenticate(ctx, "long")
		if b.calls.Load() != 3 {
			t.Errorf("calls = %d: the entry expired before CacheTTL", b.calls.Load())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		u.Authenticate(ctx, "long")
		if b.calls.Load() != 4 {
			t.Errorf("calls = %d: the entry outlived CacheTTL", b.calls.Load())
		}
	})
}

func TestNegativeCacheAndUnavailableNeverCached(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := users()
		u := newUnified(t, b, auth.Options{NegativeTTL: 5 * time.Second})
		ctx := context.Background()
		for range 3 {
			if _, err := u.Authenticate(ctx, "garbage"); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err = %v", err)
			}
		}
		if b.calls.Load() != 1 {
			t.Errorf("a rejected token reached the backend %d times within NegativeTTL", b.calls.Load())
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		u.Authenticate(ctx, "garbage")
		if b.calls.Load() != 2 {
			t.Errorf("calls = %d after NegativeTTL", b.calls.Load())
		}

		d := down()
		u2 := newUnified(t, d, auth.Options{Breaker: auth.BreakerOptions{Failures: 100}})
		for range 3 {
			if _, err := u2.Authenticate(ctx, "token-x"); !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("err = %v", err)
			}
		}
		if d.calls.Load() != 3 {
			t.Errorf("ErrUnavailable was cached: %d calls", d.calls.Load())
		}
	})
}

func TestCachingDisabled(t *testing.T) {
	t.Parallel()
	b := users()
	u := newUnified(t, b, auth.Options{CacheTTL: -1, NegativeTTL: -1})
	ctx := context.Background()
	for range 2 {
		u.Authenticate(ctx, "token-a")
		u.Authenticate(ctx, "bad")
	}
	if b.calls.Load() != 4 || u.Stats().Entries != 0 {
		t.Errorf("calls %d, entries %d with caching disabled", b.calls.Load(), u.Stats().Entries)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	b := users()
	u := newUnified(t, b, auth.Options{CacheSize: 3})
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		u.Authenticate(ctx, "token-"+name)
	}
	u.Authenticate(ctx, "token-a") // a is now the most recent; b the least
	u.Authenticate(ctx, "token-d") // evicts b
	before := b.calls.Load()
	for _, name := range []string{"a", "c", "d"} {
		u.Authenticate(ctx, "token-"+name)
	}
	if b.calls.Load() != before {
		t.Errorf("a recently used entry was evicted")
	}
	u.Authenticate(ctx, "token-b")
	if b.calls.Load() != before+1 {
		t.Errorf("the least recently used entry was kept")
	}
	if n := u.Stats().Entries; n != 3 {
		t.Errorf("Entries = %d, want 3", n)
	}

	big := newUnified(t, users(), auth.Options{CacheSize: 2000})
	for i := range 5000 {
		big.Authenticate(ctx, fmt.Sprintf("token-%d", i))
	}
	if n := big.Stats().Entries; n != 2000 {
		t.Errorf("a 2000-entry cache holds %d entries", n)
	}
}

// TestRejectedTokensNeverEvictIdentities floods the cache with made-up
// tokens, as unauthenticated traffic can, and then takes the backend down:
// every user whose identity was cached before the flood is still let in
// while the breaker is open, and every other token is still refused.
func TestRejectedTokensNeverEvictIdentities(t *testing.T) {
	t.Parallel()
	var isDown atomic.Bool
	live := users()
	b := &fakeBackend{fn: func(ctx context.Context, token string) (auth.Identity, error) {
		if isDown.Load() {
			return auth.Identity{}, errDown
		}
		return live.fn(ctx, token)
	}}
	u := newUnified(t, b, auth.Options{CacheSize: 100, Breaker: auth.BreakerOptions{Failures: 1, Cooldown: time.Hour}})
	ctx := context.Background()
	for i := range 100 {
		if _, err := u.Authenticate(ctx, fmt.Sprintf("token-user%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20000 {
		if _, err := u.Authenticate(ctx, fmt.Sprintf("garbage-%d", i)); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("garbage token: err = %v, want ErrInvalidToken", err)
		}
	}
	st := u.Stats()
	if st.Entries != 100+auth.DefaultNegativeCacheSize || st.Rejections != auth.DefaultNegativeCacheSize {
		t.Errorf("after the flood: Entries %d, Rejections %d; want 100 identities and %d rejections",
			st.Entries, st.Rejections, auth.DefaultNegativeCacheSize)
	}

	isDown.Store(true)
	if _, err := u.Authenticate(ctx, "token-newcomer"); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("backend down: err = %v, want ErrUnavailable", err)
	}
	if st := u.Stats(); st.Breaker != auth.BreakerOpen {
		t.Fatalf("breaker %v, want open", st.Breaker)
	}
	calls := b.calls.Load()
	for i := range 100 {
		id, err := u.Authenticate(ctx, fmt.Sprintf("token-user%d", i))
		if err != nil || id.UserID != fmt.Sprintf("user%d", i) {
			t.Fatalf("user%d while the breaker is open: %v, %v; the flood evicted the identity", i, id, err)
		}
	}
	if _, err := u.Authenticate(ctx, "token-stranger"); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("an uncached token while the breaker is open: err = %v, want ErrUnavailable", err)
	}
	if n := b.calls.Load(); n != calls {
		t.Errorf("%d backend calls while the breaker is open", n-calls)
	}
}

func TestConcurrentMissesShareOneBackendCall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		b := &fakeBackend{fn: func(ctx context.Context, token string) (auth.Identity, error) {
			<-release
			return auth.Identity{UserID: "shared"}, nil
		}}
		u := newUnified(t, b, auth.Options{})
		const n = 1000
		var (
			wg       sync.WaitGroup
			ok       atomic.Int64
			canceled atomic.Int64
		)
		cancelCtx, cancel := context.WithCancel(context.Background())
		for i := range n {
			wg.Go(func() {
				ctx := context.Background()
				if i == 0 {
					ctx = cancelCtx
				}
				id, err := u.Authenticate(ctx, "token-same")
				switch {
				case i == 0 && errors.Is(err, context.Canceled):
					canceled.Add(1)
				case err == nil && id.UserID == "shared":
					ok.Add(1)
				default:
					t.Errorf("caller %d: %+v, %v", i, id, err)
				}
			})
		}
		synctest.Wait() // every caller waits on the one backend call
		if st := u.Stats(); st.Misses != n || b.calls.Load() != 1 {
			t.Fatalf("%d backend calls with %d callers waiting, want 1", b.calls.Load(), st.Misses)
		}
		cancel()
		synctest.Wait() // the cancelled caller has returned; the call goes on
		if canceled.Load() != 1 || ok.Load() != 0 {
			t.Fatalf("after one cancellation: %d cancelled, %d succeeded", canceled.Load(), ok.Load())
		}
		close(release)
		wg.Wait()
		if b.calls.Load() != 1 {
			t.Errorf("%d backend calls for one token, want 1", b.calls.Load())
		}
		if ok.Load() != n-1 {
			t.Errorf("%d succeeded, want %d", ok.Load(), n-1)
		}
		if st := u.Stats(); st.Shared != n-1 || st.BackendCalls != 1 {
			t.Errorf("Shared = %d, BackendCalls = %d; want %d and 1", st.Shared, st.BackendCalls, n-1)
		}
	})
}

func TestCancelledCallerReturnsAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := &fakeBackend{fn: func(ctx context.Context, token string) (auth.Identity, error) {
			time.Sleep(3 * time.Second)
			return auth.Identity{UserID: "slow"}, nil
		}}
		u := newUnified(t, b, auth.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := u.Authenticate(ctx, "t"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("returned after %v, want 1s", d)
		}
		// The detached call completes and fills the cache for later callers.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if id, err := u.Authenticate(context.Background(), "t"); err != nil || id.UserID != "slow" || b.calls.Load() != 1 {
			t.Errorf("after the call completed: %+v, %v, %d calls", id, err, b.calls.Load())
		}
	})
}

func TestBackendTimeoutEvenWhenItIgnoresTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		stuck := make(chan struct{})
		b := &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) {
			<-stuck // ignores its context
			return auth.Identity{UserID: "late"}, nil
		}}
		u, err := auth.New(b, auth.Options{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = u.Authenticate(context.Background(), "t")
		if !errors.Is(err, auth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrUnavailable caused by the deadline", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("timed out after %v, want 2s", d)
		}
		// Close waits for the stuck backend goroutine, bounded by its context.
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := u.Close(closeCtx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close with a stuck backend = %v", err)
		}
		close(stuck)
		if err := u.Close(context.Background()); err != nil {
			t.Errorf("Close after the backend returned = %v", err)
		}
	})
}

func TestBackendPanicIsAnErrorForEveryWaiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testlog.New()
		release := make(chan struct{})
		b := &fakeBackend{fn: func(_ context.Context, token string) (auth.Identity, error) {
			<-release
			panic("parsing " + token)
		}}
		u := newUnified(t, b, auth.Options{Logger: logger})
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := u.Authenticate(context.Background(), "tok-SECRET-1"); !errors.Is(err, auth.ErrUnavailable) {
					t.Errorf("err = %v, want ErrUnavailable", err)
				}
			})
		}
		synctest.Wait() // all ten wait on one backend call
		close(release)
		wg.Wait()
		if n := b.calls.Load(); n != 1 {
			t.Errorf("%d backend calls, want 1 shared by every waiter", n)
		}
		out := logs.String()
		if strings.Count(out, "backend panicked") != 1 || strings.Contains(out, "SECRET") {
			t.Errorf("log = %s: want the panic reported once, without the token", out)
		}
	})
}

func TestBackendErrorsAreClassified(t *testing.T) {
	t.Parallel()
	type backendErr struct{ error }
	cause := backendErr{errors.New("idp said: token tok-SECRET-2 unknown")}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"rejected", fmt.Errorf("sig: %w", auth.ErrInvalidToken), auth.ErrInvalidToken},
		{"expired", fmt.Errorf("exp: %w", auth.ErrExpired), auth.ErrExpired},
		{"anything else", cause, auth.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUnified(t, &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) { return auth.Identity{}, tt.err }}, auth.Options{})
			_, err := u.Authenticate(context.Background(), "tok-SECRET-2")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "idp said") {
				t.Errorf("error text %q repeats the backend's", err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the backend's error is not reachable through %v", err)
			}
		})
	}
	u := newUnified(t, &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) { return auth.Identity{}, nil }}, auth.Options{})
	if _, err := u.Authenticate(context.Background(), "t"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("an identity without a user = %v, want ErrInvalidToken", err)
	}
}

func TestMalformedTokensNeverReachTheBackend(t *testing.T) {
	t.Parallel()
	b := users()
	u := newUnified(t, b, auth.Options{Extract: auth.Extractor{MaxLen: 16}})
	for _, tc := range []struct {
		tok  string
		want error
	}{{"", auth.ErrNoToken}, {"token-aaaaaaaaaaaaaaaaaaa", auth.ErrInvalidToken}, {"token-\x00", auth.ErrInvalidToken}, {"token a", auth.ErrInvalidToken}} {
		if _, err := u.Authenticate(context.Background(), tc.tok); !errors.Is(err, tc.want) {
			t.Errorf("Authenticate(%q) = %v, want %v", tc.tok, err, tc.want)
		}
	}
	if b.calls.Load() != 0 {
		t.Errorf("%d malformed tokens reached the backend", b.calls.Load())
	}
}

func TestAuthenticateRequest(t *testing.T) {
	t.Parallel()
	u := newUnified(t, users(), auth.Options{})
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Sec-WebSocket-Protocol", "chat.v1, "+auth.SubprotocolToken("", "token-carol"))
	id, err := u.AuthenticateRequest(r)
	if err != nil || id.UserID != "carol" {
		t.Fatalf("AuthenticateRequest = %+v, %v", id, err)
	}
	if _, err := u.AuthenticateRequest(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("no token = %v", err)
	}
}

func TestCloseCancelsInFlightCallsAndIsFinal(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	b := &fakeBackend{fn: func(ctx context.Context, token string) (auth.Identity, error) {
		close(entered)
		<-ctx.Done()
		return auth.Identity{}, ctx.Err()
	}}
	u, err := auth.New(b, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := u.Authenticate(context.Background(), "t")
		done <- err
	}()
	<-entered
	if err := u.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("in-flight caller got %v", err)
	}
	_, err = u.Authenticate(context.Background(), "t")
	if !errors.Is(err, auth.ErrClosed) || !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("after Close: %v", err)
	}
	if err := u.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// AuthenticateRequestWith takes the token where its Extractor says, and
// counts a request without one as AuthenticateRequest does.
func TestAuthenticateRequestWith(t *testing.T) {
	t.Parallel()
	u := newUnified(t, users(), auth.Options{})
	r := httptest.NewRequest("GET", "/events?token=token-carol", nil)
	if _, err := u.AuthenticateRequest(r); !errors.Is(err, auth.ErrNoToken) {
		t.Fatalf("AuthenticateRequest read the query string: %v", err)
	}
	id, err := u.AuthenticateRequestWith(r, auth.Extractor{AllowQuery: true})
	if err != nil || id.UserID != "carol" {
		t.Fatalf("AuthenticateRequestWith = %+v, %v", id, err)
	}
	before := u.Stats().Failures
	if _, err := u.AuthenticateRequestWith(httptest.NewRequest("GET", "/events", nil), auth.Extractor{AllowQuery: true}); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("no token = %v", err)
	}
	if after := u.Stats().Failures; after == before {
		t.Errorf("a request without a token was not counted: %+v", after)
	}
}
