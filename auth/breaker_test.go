package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

// switchable fails while failing is set and otherwise accepts every token as
// user "u"; while gate is non-nil, calls wait on it.
type switchable struct {
	failing atomic.Bool
	calls   atomic.Int64
	gate    chan struct{}
}

func (s *switchable) Authenticate(ctx context.Context, token string) (auth.Identity, error) {
	s.calls.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.failing.Load() {
		return auth.Identity{}, errDown
	}
	return auth.Identity{UserID: "u"}, nil
}

func TestBreakerLifecycle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testlog.New()
		b := &switchable{}
		b.failing.Store(true)
		u := newUnified(t, b, auth.Options{
			CacheTTL: -1, // every call goes to the breaker
			Breaker:  auth.BreakerOptions{Failures: 3, Cooldown: 10 * time.Second},
			Logger:   logger,
		})
		ctx := context.Background()
		for i := range 3 {
			if st := u.Stats(); st.Breaker != auth.BreakerClosed {
				t.Fatalf("breaker %v after %d failures", st.Breaker, i)
			}
			if _, err := u.Authenticate(ctx, "t"); !errors.Is(err, auth.ErrUnavailable) {
				t.Fatal(err)
			}
		}
		if st := u.Stats(); st.Breaker != auth.BreakerOpen || st.Opens != 1 {
			t.Fatalf("after exactly 3 failures: %+v", st)
		}

		// Open: fails closed without calling the backend, even once it is healthy.
		b.failing.Store(false)
		for range 5 {
			id, err := u.Authenticate(ctx, "t")
			if !errors.Is(err, auth.ErrUnavailable) || id.UserID != "" {
				t.Fatalf("open breaker returned %+v, %v", id, err)
			}
		}
		if b.calls.Load() != 3 || u.Stats().Refused != 5 {
			t.Fatalf("open breaker called the backend: %d calls, stats %+v", b.calls.Load(), u.Stats())
		}

		// After the cooldown exactly one probe goes through; the rest are refused.
		time.Sleep(10 * time.Second)
		b.gate = make(chan struct{})
		var wg sync.WaitGroup
		var got, refused atomic.Int64
		for i := range 10 {
			wg.Go(func() {
				tok := "probe" + string(rune('a'+i))
				id, err := u.Authenticate(ctx, tok)
				switch {
				case err == nil && id.UserID == "u":
					got.Add(1)
				case errors.Is(err, auth.ErrUnavailable):
					refused.Add(1)
				}
			})
		}
		synctest.Wait()
		if st := u.Stats(); st.Breaker != auth.BreakerHalfOpen || b.calls.Load() != 4 {
			t.Fatalf("half-open: %+v, %d calls", st, b.calls.Load())
		}
		close(b.gate)
		wg.Wait()
		b.gate = nil
		if got.Load() != 1 || refused.Load() != 9 {
			t.Fatalf("half-open let %d through, refused %d; want 1 and 9", got.Load(), refused.Load())
		}
		if st := u.Stats(); st.Breaker != auth.BreakerClosed {
			t.Fatalf("a successful probe did not close the breaker: %+v", st)
		}

		// Closed again; failures re-open it, and a failed probe re-opens at once.
		b.failing.Store(true)
		for range 3 {
			u.Authenticate(ctx, "t")
		}
		if st := u.Stats(); st.Breaker != auth.BreakerOpen || st.Opens != 2 {
			t.Fatalf("did not re-open: %+v", st)
		}
		time.Sleep(10 * time.Second)
		if _, err := u.Authenticate(ctx, "t"); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatal(err)
		}
		if st := u.Stats(); st.Breaker != auth.BreakerOpen || st.Opens != 3 {
			t.Fatalf("a failed probe did not re-open the breaker: %+v", st)
		}
		out := logs.String()
		for _, want := range []string{"breaker opened", "half-open", "breaker closed", "re-opened"} {
			if strings.Count(out, want) < 1 {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "breaker opened"); n != 2 {
			t.Errorf("%d 'opened' records for 2 openings", n)
		}
	})
}

func TestRejectionsDoNotOpenTheBreaker(t *testing.T) {
	t.Parallel()
	b := &fakeBackend{fn: func(_ context.Context, token string) (auth.Identity, error) {
		if strings.HasPrefix(token, "exp") {
			return auth.Identity{}, auth.ErrExpired
		}
		return auth.Identity{}, auth.ErrInvalidToken
	}}
	u := newUnified(t, b, auth.Options{NegativeTTL: -1, Breaker: auth.BreakerOptions{Failures: 2}})
	for i := range 10 {
		tok := "bad"
		if i%2 == 0 {
			tok = "expired"
		}
		u.Authenticate(context.Background(), tok)
	}
	if st := u.Stats(); st.Breaker != auth.BreakerClosed || st.Opens != 0 || b.calls.Load() != 10 {
		t.Errorf("rejections counted as failures: %+v, %d calls", st, b.calls.Load())
	}
}

func TestSuccessResetsTheFailureCount(t *testing.T) {
	t.Parallel()
	b := &switchable{}
	u := newUnified(t, b, auth.Options{CacheTTL: -1, Breaker: auth.BreakerOptions{Failures: 3}})
	for range 5 {
		b.failing.Store(true)
		u.Authenticate(context.Background(), "t")
		u.Authenticate(context.Background(), "t")
		b.failing.Store(false)
		u.Authenticate(context.Background(), "t")
	}
	if st := u.Stats(); st.Opens != 0 {
		t.Errorf("non-consecutive failures opened the breaker: %+v", st)
	}
}

func TestBreakerStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[auth.BreakerState]string{auth.BreakerClosed: "closed", auth.BreakerOpen: "open", auth.BreakerHalfOpen: "half_open"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", s, s.String())
		}
	}
}

func TestTimeoutsAndPanicsOpenTheBreaker(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := &fakeBackend{fn: func(ctx context.Context, token string) (auth.Identity, error) {
			if token == "panic" {
				panic("backend bug")
			}
			<-ctx.Done() // hangs until the Unified's Timeout
			return auth.Identity{}, ctx.Err()
		}}
		logger, _ := testlog.New()
		u := newUnified(t, b, auth.Options{Timeout: time.Second, Logger: logger, Breaker: auth.BreakerOptions{Failures: 3}})
		ctx := context.Background()
		for i, tok := range []string{"slow-1", "panic", "slow-2"} {
			if st := u.Stats(); st.Breaker != auth.BreakerClosed {
				t.Fatalf("breaker %v after %d failures", st.Breaker, i)
			}
			if _, err := u.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("%s: %v, want ErrUnavailable", tok, err)
			}
		}
		if st := u.Stats(); st.Breaker != auth.BreakerOpen || st.Opens != 1 {
			t.Fatalf("two timeouts and a panic did not open the breaker: %+v", st)
		}
		calls := b.calls.Load()
		if id, err := u.Authenticate(ctx, "slow-3"); !errors.Is(err, auth.ErrUnavailable) || id.UserID != "" || b.calls.Load() != calls {
			t.Errorf("open breaker: %+v, %v, %d backend calls (was %d)", id, err, b.calls.Load(), calls)
		}
	})
}

// TestBreakerCountsOnlyCallsOfItsCurrentState has a slow call that started
// while the breaker was closed finish after it opened, and after its probe
// started: neither its success nor its failure may stand in for the probe.
func TestBreakerCountsOnlyCallsOfItsCurrentState(t *testing.T) {
	t.Parallel()
	for _, straggler := range []string{"succeeds", "fails"} {
		t.Run(straggler, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				slow, probe := make(chan struct{}), make(chan struct{})
				b := &fakeBackend{fn: func(_ context.Context, token string) (auth.Identity, error) {
					switch token {
					case "slow":
						<-slow
						if straggler == "fails" {
							return auth.Identity{}, errDown
						}
					case "probe":
						<-probe
					default:
						return auth.Identity{}, errDown
					}
					return auth.Identity{UserID: token}, nil
				}}
				logger, logs := testlog.New()
				u := newUnified(t, b, auth.Options{
					CacheTTL: -1,
					Timeout:  time.Minute, // the slow call outlasts the cooldown
					Logger:   logger,
					Breaker:  auth.BreakerOptions{Failures: 1, Cooldown: 10 * time.Second},
				})
				// Release both calls even when the test fails early, so that
				// Close does not wait for them forever.
				release := func(ch chan struct{}) {
					select {
					case <-ch:
					default:
						close(ch)
					}
				}
				t.Cleanup(func() { release(slow); release(probe) })
				ctx := context.Background()
				slowDone := make(chan error, 1)
				go func() {
					_, err := u.Authenticate(ctx, "slow")
					slowDone <- err
				}()
				synctest.Wait() // the slow call is under way, the breaker closed
				u.Authenticate(ctx, "down")
				if st := u.Stats(); st.Breaker != auth.BreakerOpen {
					t.Fatalf("breaker %v, want open", st.Breaker)
				}

				if straggler == "succeeds" {
					release(slow)
					if err := <-slowDone; err != nil {
						t.Fatalf("the slow call itself: %v", err)
					}
					if st := u.Stats(); st.Breaker != auth.BreakerOpen {
						t.Fatalf("a call from before the breaker opened closed it: %v", st.Breaker)
					}
					if _, err := u.Authenticate(ctx, "other"); !errors.Is(err, auth.ErrUnavailable) {
						t.Fatalf("open breaker let a call through: %v", err)
					}
				}

				time.Sleep(10 * time.Second)
				probeDone := make(chan error, 1)
				go func() {
					_, err := u.Authenticate(ctx, "probe")
					probeDone <- err
				}()
				synctest.Wait()
				if st := u.Stats(); st.Breaker != auth.BreakerHalfOpen {
					t.Fatalf("breaker %v, want half_open during the probe", st.Breaker)
				}
				if straggler == "fails" {
					release(slow)
					if err := <-slowDone; !errors.Is(err, auth.ErrUnavailable) {
						t.Fatalf("the slow call itself: %v", err)
					}
					if st := u.Stats(); st.Breaker != auth.BreakerHalfOpen || st.Opens != 1 {
						t.Fatalf("a call from before the probe re-opened the breaker: %+v", st)
					}
				}
				release(probe)
				if err := <-probeDone; err != nil {
					t.Fatalf("probe: %v", err)
				}
				if st := u.Stats(); st.Breaker != auth.BreakerClosed || st.Opens != 1 {
					t.Fatalf("after a successful probe: %+v", st)
				}
				out := logs.String()
				for _, msg := range []string{"breaker opened", "half-open", "breaker closed"} {
					if n := strings.Count(out, msg); n != 1 {
						t.Errorf("%d %q records, want 1:\n%s", n, msg, out)
					}
				}
				if strings.Contains(out, "re-opened") {
					t.Errorf("a re-open was logged:\n%s", out)
				}
			})
		})
	}
}
