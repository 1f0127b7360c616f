package prommetrics_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/prommetrics"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
)

func authExposition(hits, misses, calls, opens, refused, state, entries string) string {
	return `# HELP ssot_auth_backend_calls_total Calls made to the authentication backend.
# TYPE ssot_auth_backend_calls_total counter
ssot_auth_backend_calls_total ` + calls + `
# HELP ssot_auth_breaker_opens_total Times the circuit breaker opened.
# TYPE ssot_auth_breaker_opens_total counter
ssot_auth_breaker_opens_total ` + opens + `
# HELP ssot_auth_breaker_refused_total Cache misses refused because the circuit breaker was open.
# TYPE ssot_auth_breaker_refused_total counter
ssot_auth_breaker_refused_total ` + refused + `
# HELP ssot_auth_breaker_state Circuit breaker state: 0 closed, 1 open, 2 half-open.
# TYPE ssot_auth_breaker_state gauge
ssot_auth_breaker_state ` + state + `
# HELP ssot_auth_cache_entries Tokens currently in the cache.
# TYPE ssot_auth_cache_entries gauge
ssot_auth_cache_entries ` + entries + `
# HELP ssot_auth_cache_hits_total Authentications answered from the cache.
# TYPE ssot_auth_cache_hits_total counter
ssot_auth_cache_hits_total ` + hits + `
# HELP ssot_auth_cache_misses_total Authentications not in the cache.
# TYPE ssot_auth_cache_misses_total counter
ssot_auth_cache_misses_total ` + misses + `
# HELP ssot_auth_shared_total Cache misses that joined another caller's backend call for the same token.
# TYPE ssot_auth_shared_total counter
ssot_auth_shared_total 0
`
}

// TestAuthCollector: a hit, a miss, a backend outage that opens the breaker
// and a refused call, each visible in the exposition; the breaker state is
// the documented number; a closed Unified keeps reporting its counts.
func TestAuthCollector(t *testing.T) {
	t.Parallel()
	down := errors.New("backend down")
	u, err := auth.New(auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		if token == "good" {
			return auth.Identity{UserID: "alice"}, nil
		}
		return auth.Identity{}, down
	}), auth.Options{Breaker: auth.BreakerOptions{Failures: 1}, Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry(t)(prommetrics.NewAuthCollector(u))
	ctx := context.Background()
	for range 2 { // a miss, then a hit
		if _, err := u.Authenticate(ctx, "good"); err != nil {
			t.Fatal(err)
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(authExposition("1", "1", "1", "0", "0", "0", "1")+failuresExposition(0))); err != nil {
		t.Error(err)
	}
	for _, token := range []string{"fails", "refused"} { // opens the breaker, then is refused by it
		if _, err := u.Authenticate(ctx, token); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("Authenticate(%s) = %v", token, err)
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(authExposition("1", "3", "2", "1", "1", "1", "1")+failuresExposition(2))); err != nil {
		t.Error(err)
	}
	if err := u.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Close empties the cache; the counters stay.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(authExposition("1", "3", "2", "1", "1", "1", "0")+failuresExposition(2))); err != nil {
		t.Error(err)
	}
}

// failuresExposition is ssot_auth_failures_total with every kind at 0 but
// unavailable.
func failuresExposition(unavailable int) string {
	s := "# HELP ssot_auth_failures_total Authentications refused, by kind: why the token was refused (auth.Kind), never anything of the token.\n# TYPE ssot_auth_failures_total counter\n"
	for _, k := range []string{"no_token", "expired", "malformed", "bad_signature", "wrong_audience", "not_yet_valid", "revoked", "invalid"} {
		s += `ssot_auth_failures_total{kind="` + k + `"} 0` + "\n"
	}
	return s + `ssot_auth_failures_total{kind="unavailable"} ` + strconv.Itoa(unavailable) + "\n"
}
