package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

type ctxKey struct{}

// TestOnFailureSeesEveryRefusal checks that a service can log or count
// every refusal, whichever step refused, with the caller's context, and
// never sees a token or the caller's own cancellation.
func TestOnFailureSeesEveryRefusal(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	opts := auth.Options{OnFailure: func(ctx context.Context, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ctx.Value(ctxKey{}).(string)+" "+err.Error())
	}}
	u := newUnified(t, users(), opts)
	unavailable := newUnified(t, down(), opts)
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-1")

	if _, err := u.Authenticate(ctx, "token-alice"); err != nil {
		t.Fatal(err)
	}
	_, _ = u.Authenticate(ctx, "")                    // no token
	_, _ = u.Authenticate(ctx, "secret-mallory")      // rejected by the backend
	_, _ = u.Authenticate(ctx, "secret-mallory")      // rejected from the cache
	_, _ = u.Authenticate(ctx, "secret\x00control")   // malformed
	_, _ = unavailable.Authenticate(ctx, "token-bob") // backend down
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	_, _ = u.AuthenticateRequest(r) // no token in the request
	r.Header.Set("Authorization", "Bearer secret-eve")
	_, _ = u.AuthenticateRequest(r) // rejected, through the request path
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.Authenticate(cancelled, "token-carol"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Authenticate with a cancelled context = %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"req-1 " + auth.ErrNoToken.Error(),
		"req-1 " + auth.ErrInvalidToken.Error(),
		"req-1 " + auth.ErrInvalidToken.Error(),
		"req-1 " + auth.ErrInvalidToken.Error(),
		"req-1 " + auth.ErrUnavailable.Error(),
		"req-1 " + auth.ErrNoToken.Error(),
		"req-1 " + auth.ErrInvalidToken.Error(),
	}
	if len(seen) != len(want) {
		t.Fatalf("OnFailure saw %d refusals, want %d:\n%s", len(seen), len(want), strings.Join(seen, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(seen[i], want[i]) {
			t.Errorf("refusal %d = %q, want it to start with %q", i, seen[i], want[i])
		}
		if strings.Contains(seen[i], "secret") {
			t.Errorf("refusal %d shows the token: %q", i, seen[i])
		}
	}
}

// TestStatsJSON checks the form a health endpoint shows: snake_case names
// and the breaker's state as text.
func TestStatsJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(auth.Stats{BackendCalls: 3, Breaker: auth.BreakerHalfOpen, Failures: auth.FailureCounts{BadSignature: 2}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"hits":0,"misses":0,"shared":0,"backend_calls":3,"opens":0,"refused":0,"breaker":"half_open","entries":0,"rejections":0,` +
		`"failures":{"no_token":0,"expired":0,"malformed":0,"bad_signature":2,"wrong_audience":0,"not_yet_valid":0,"revoked":0,"invalid":0,"unavailable":0}}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}
