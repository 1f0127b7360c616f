package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

// TestFailuresCountedByKind: every refusal is counted under its kind, each
// kind is also ErrInvalidToken (or its own class), and the Debug log names
// the kind and nothing of the token.
func TestFailuresCountedByKind(t *testing.T) {
	t.Parallel()
	backend := auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		switch {
		case strings.HasPrefix(token, "sig"):
			return auth.Identity{}, fmt.Errorf("%w: signature", auth.ErrBadSignature)
		case strings.HasPrefix(token, "aud"):
			return auth.Identity{}, fmt.Errorf("%w: audience", auth.ErrWrongAudience)
		case strings.HasPrefix(token, "nbf"):
			return auth.Identity{}, auth.ErrNotYetValid
		case strings.HasPrefix(token, "bad"):
			return auth.Identity{}, auth.ErrMalformed
		case strings.HasPrefix(token, "rev"):
			return auth.Identity{}, auth.ErrRevoked
		case strings.HasPrefix(token, "exp"):
			return auth.Identity{}, auth.ErrExpired
		case strings.HasPrefix(token, "down"):
			return auth.Identity{}, errors.New("backend down")
		}
		return auth.Identity{}, auth.ErrInvalidToken
	})
	var logs bytes.Buffer
	u, err := auth.New(backend, auth.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close(context.Background()) })
	ctx := context.Background()
	for _, tc := range []struct {
		token, kind string
		is          error
	}{
		{"sig-secret1", "bad_signature", auth.ErrInvalidToken},
		{"aud-secret2", "wrong_audience", auth.ErrInvalidToken},
		{"nbf-secret3", "not_yet_valid", auth.ErrInvalidToken},
		{"bad-secret4", "malformed", auth.ErrInvalidToken},
		{"rev-secret5", "revoked", auth.ErrInvalidToken},
		{"exp-secret6", "expired", auth.ErrExpired},
		{"other-secret7", "invalid", auth.ErrInvalidToken},
		{"", "no_token", auth.ErrNoToken},
	} {
		_, err := u.Authenticate(ctx, tc.token)
		if got := auth.Kind(err); got != tc.kind || !errors.Is(err, tc.is) {
			t.Errorf("token %q: Kind %q, %v; want %q and %v", tc.token, got, err, tc.kind, tc.is)
		}
	}
	_, err = u.Authenticate(ctx, "down-secret8")
	if got := auth.Kind(err); got != "unavailable" {
		t.Errorf("a failing backend: Kind %q, want unavailable", got)
	}
	want := auth.FailureCounts{NoToken: 1, Expired: 1, Malformed: 1, BadSignature: 1, WrongAudience: 1, NotYetValid: 1, Revoked: 1, Invalid: 1, Unavailable: 1}
	if got := u.Stats().Failures; got != want {
		t.Errorf("Failures = %+v, want %+v", got, want)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the log shows a token:\n%s", logs.String())
	}
	for _, k := range []string{"bad_signature", "wrong_audience", "not_yet_valid", "malformed", "revoked"} {
		if !strings.Contains(logs.String(), "kind="+k) {
			t.Errorf("no Debug line names the kind %s:\n%s", k, logs.String())
		}
	}
}
