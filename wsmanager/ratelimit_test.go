package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestReadRateCloses: a client that sends past ReadRate is closed with 1008
// "rate limited", after the Handler saw the burst it was allowed, and the
// close is counted.
func TestReadRateCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger(), ReadRate: wsmanager.RateLimit{Rate: 10, Burst: 5}})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		var handled atomic.Int64
		res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		done := make(chan error, 1)
		go func() {
			done <- res.Serve(peer, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error {
				handled.Add(1)
				return nil
			}))
		}()
		// A steady 10 a second is fine, for as long as it lasts.
		for i := range 30 {
			peer.Push(fmt.Appendf(nil, "%d", i))
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		if _, _, closed := peer.Closed(); closed {
			t.Fatal("closed a client sending at the rate")
		}
		for i := range 20 { // a burst of 20: 5 fit
			peer.Push(fmt.Appendf(nil, "burst %d", i))
		}
		err = <-done
		if !errors.Is(err, wsmanager.ErrRateLimited) {
			t.Errorf("Serve = %v, want ErrRateLimited", err)
		}
		if code, reason, _ := peer.Closed(); code != wsmanager.CodePolicyViolation || reason != "rate limited" {
			t.Errorf("closed with %d %q, want 1008 \"rate limited\"", code, reason)
		}
		if got := handled.Load(); got < 30 || got > 36 {
			t.Errorf("handled %d, want the 30 at the rate and the burst that fit", got)
		}
		if st := f.Stats(); st.RateLimitCloses != 1 || st.RateLimited == 0 {
			t.Errorf("RateLimitCloses %d, RateLimited %d; want 1, > 0", st.RateLimitCloses, st.RateLimited)
		}
	})
}

// TestReadRateDrops: with Drop, messages over the limit never reach the
// Handler and are counted; the connection stays open.
func TestReadRateDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger(), ReadRate: wsmanager.RateLimit{Rate: 1, Burst: 3, Drop: true}})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		var handled atomic.Int64
		res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		go func() {
			_ = res.Serve(peer, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error {
				handled.Add(1)
				return nil
			}))
		}()
		for i := range 10 {
			peer.Push(fmt.Appendf(nil, "%d", i))
		}
		synctest.Wait()
		if got := handled.Load(); got != 3 {
			t.Errorf("handled %d of a burst of 10, want Burst, 3", got)
		}
		if st := f.Stats(); st.RateLimited != 7 || st.RateLimitCloses != 0 {
			t.Errorf("RateLimited %d, RateLimitCloses %d; want 7, 0", st.RateLimited, st.RateLimitCloses)
		}
		if _, _, closed := peer.Closed(); closed {
			t.Error("Drop closed the connection")
		}
		time.Sleep(2 * time.Second)
		peer.Push([]byte("after a pause"))
		synctest.Wait()
		if got := handled.Load(); got != 4 {
			t.Errorf("handled %d after a pause, want 4: the bucket refills", got)
		}
	})
}

// TestReadRateValidated: a negative or NaN rate, or a negative burst, is
// refused by NewFactory.
func TestReadRateValidated(t *testing.T) {
	t.Parallel()
	for _, r := range []wsmanager.RateLimit{{Rate: -1}, {Rate: 1, Burst: -1}} {
		if _, err := wsmanager.NewFactory(wsmanager.Options{ReadRate: r}); !errors.Is(err, wsmanager.ErrInvalidOptions) {
			t.Errorf("NewFactory with ReadRate %+v = %v, want ErrInvalidOptions", r, err)
		}
	}
}
