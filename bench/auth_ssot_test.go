package bench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
)

func authOursCases() []authCase {
	return []authCase{{name: "ssot", build: func(tb testing.TB, c *countingBackend, failing bool) func(context.Context, string) error {
		tb.Helper()
		be := auth.Func(func(ctx context.Context, tok string) (auth.Identity, error) {
			if failing {
				return auth.Identity{}, errBackendDown
			}
			u, err := c.hand(ctx, tok)
			return auth.Identity{UserID: u.ID, Scopes: u.Scopes}, err
		})
		// A discarding logger: the breaker's "opened" record would otherwise
		// land in the middle of the benchmark output and break its parsing.
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		u, err := auth.New(be, auth.Options{Breaker: auth.BreakerOptions{Failures: 5, Cooldown: time.Hour}, Logger: quiet})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := u.Close(context.Background()); err != nil {
				tb.Error(err)
			}
		})
		return func(ctx context.Context, tok string) error { _, err := u.Authenticate(ctx, tok); return err }
	}}}
}

func TestAuthSSOTFailsClosed(t *testing.T) {
	t.Parallel()
	auth1 := authOursCases()[0].build(t, &countingBackend{}, true)
	ctx := context.Background()
	for range 6 {
		if err := auth1(ctx, "x"); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
}

func TestAuthSSOTHitSkipsBackend(t *testing.T) {
	t.Parallel()
	checkHitSkipsBackend(t, authOursCases()[0])
}
