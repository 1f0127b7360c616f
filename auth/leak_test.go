package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

// TestNoTokenInErrorsLogsOrStats drives a token through every outcome and
// checks that neither it nor a recognisable part of it shows up anywhere a
// user could print.
func TestNoTokenInErrorsLogsOrStats(t *testing.T) {
	t.Parallel()
	const secret = "sk_live_Zq81XbTT0kenPart"
	parts := []string{secret, secret[:12], secret[8:]}
	logger, logs := testlog.New()
	var printed []string
	check := func(where, s string) {
		t.Helper()
		printed = append(printed, s)
		for _, p := range parts {
			if strings.Contains(s, p) {
				t.Errorf("%s contains the token: %q", where, s)
			}
		}
	}
	outcomes := []error{
		fmt.Errorf("bad signature on %s: %w", secret, auth.ErrInvalidToken),
		fmt.Errorf("token %s expired: %w", secret, auth.ErrExpired),
		fmt.Errorf("idp rejected %s with 502", secret),
	}
	for i, outcome := range outcomes {
		b := &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) { return auth.Identity{}, outcome }}
		u := newUnified(t, b, auth.Options{Logger: logger, Breaker: auth.BreakerOptions{Failures: 1}})
		for range 3 { // miss, negative hit or open breaker
			_, err := u.Authenticate(context.Background(), secret)
			if err == nil {
				t.Fatalf("outcome %d: no error", i)
			}
			check("error", err.Error())
			check("error %+v", fmt.Sprintf("%+v", err))
			check("error %#v", fmt.Sprintf("%#v", err))
		}
		check("stats", fmt.Sprintf("%+v", u.Stats()))
	}
	panicking := &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) { panic("cannot parse " + secret) }}
	u := newUnified(t, panicking, auth.Options{Logger: logger})
	_, err := u.Authenticate(context.Background(), secret)
	check("panic error", err.Error())

	slow := &fakeBackend{fn: func(ctx context.Context, _ string) (auth.Identity, error) {
		<-ctx.Done()
		return auth.Identity{}, ctx.Err()
	}}
	u = newUnified(t, slow, auth.Options{Logger: logger, Timeout: time.Millisecond})
	_, err = u.Authenticate(context.Background(), secret)
	check("timeout error", err.Error())

	for _, hdr := range []string{"Bearer " + secret + "\x01", "Bearer " + strings.Repeat(secret, 400)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", hdr)
		_, _, err := auth.Extractor{}.Token(r)
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("a malformed token gave %v, want ErrInvalidToken", err)
		}
		check("extractor error", err.Error())
	}
	check("log", logs.String())
	if len(printed) == 0 {
		t.Fatal("nothing was checked")
	}
}
