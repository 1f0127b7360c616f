package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// expiringBackend accepts "<user>.<seconds>" tokens: an identity of user
// expiring that many seconds from now.
func expiringBackend() auth.Authenticator {
	return auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		var user string
		var secs int
		if _, err := fmt.Sscanf(strings.Replace(token, ".", " ", 1), "%s %d", &user, &secs); err != nil {
			return auth.Identity{}, auth.ErrInvalidToken
		}
		return auth.Identity{UserID: user, ExpiresAt: time.Now().Add(time.Duration(secs) * time.Second)}, nil
	})
}

// TestExpiryOnEveryPath: Reserve, given a context with an identity whose
// ExpiresAt is set, closes the connection with 1008 "token expired" at
// that time, as NewEndpoint does.
func TestExpiryOnEveryPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		ctx := auth.WithIdentity(context.Background(), auth.Identity{UserID: "u", ExpiresAt: time.Now().Add(time.Minute)})
		res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		done := make(chan error, 1)
		go func() { done <- res.Serve(peer, echo()) }()
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if _, _, closed := peer.Closed(); closed {
			t.Fatal("closed before the identity expired")
		}
		time.Sleep(2 * time.Second)
		err = <-done
		if code, reason, _ := peer.Closed(); code != wsmanager.CodePolicyViolation || reason != "token expired" {
			t.Errorf("closed with %d %q, want 1008 \"token expired\"", code, reason)
		}
		if !errors.Is(err, auth.ErrExpired) || f.Stats().ExpiredCloses != 1 {
			t.Errorf("Serve = %v, ExpiredCloses %d; want ErrExpired, 1", err, f.Stats().ExpiredCloses)
		}
	})
}

// TestRefreshKeepsTheConnection: a token refreshed 5 s before it expires
// keeps the connection open past the old expiry, and every message sent
// across the refresh arrives once, in order.
func TestRefreshKeepsTheConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, err := auth.New(expiringBackend(), auth.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close(context.Background())
		f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		id, err := a.Authenticate(context.Background(), "u.30")
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Reserve(auth.WithIdentity(context.Background(), id), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Connection()
		peer := memconn.New(memconn.Options{})
		go func() { _ = res.Serve(peer, echo()) }()
		ctx := context.Background()
		sent := 0
		send := func() {
			if _, err := f.SendToUser(ctx, "u", fmt.Appendf(nil, "%d", sent)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		for range 25 {
			send()
			time.Sleep(time.Second)
		}
		if err := c.Refresh(ctx, a, "u.3600"); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		for range 20 { // well past the old expiry
			send()
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if _, _, closed := peer.Closed(); closed {
			t.Fatal("closed after a refresh moved its expiry")
		}
		got := peer.Written()
		if len(got) != sent {
			t.Fatalf("%d messages arrived, want %d", len(got), sent)
		}
		for i, m := range got {
			if string(m) != fmt.Sprint(i) {
				t.Fatalf("message %d is %q: lost or reordered", i, m)
			}
		}
		if nid, _ := c.Identity(); !nid.ExpiresAt.After(id.ExpiresAt) {
			t.Error("Identity still the old one after Refresh")
		}
		if got := f.Stats().TokenRefreshes; got != 1 {
			t.Errorf("TokenRefreshes %d, want 1", got)
		}
	})
}

// TestRefusedRefreshCloses: an invalid token, or another user's, closes
// the connection with 1008 at once (within 100 ms of the refusal) and
// Refresh says why.
func TestRefusedRefreshCloses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		token string
		want  error
	}{
		{"garbage", auth.ErrInvalidToken},
		{"mallory.3600", wsmanager.ErrInvalidUser},
	} {
		t.Run(tc.token, func(t *testing.T) {
			t.Parallel()
			a, err := auth.New(expiringBackend(), auth.Options{Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.Close(context.Background()) })
			h := newHarness(t, wsmanager.Options{})
			s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
			s.ready(t)
			start := time.Now()
			if err := s.c.Refresh(context.Background(), a, tc.token); !errors.Is(err, tc.want) {
				t.Errorf("Refresh = %v, want %v", err, tc.want)
			}
			_ = s.wait(t)
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Errorf("closed %v after the refused refresh, want within 100ms", took)
			}
			if code, reason, _ := s.peer.Closed(); code != wsmanager.CodePolicyViolation || reason != "token refresh refused" {
				t.Errorf("closed with %d %q, want 1008 \"token refresh refused\"", code, reason)
			}
			if got := h.f.Stats().RefreshFailures; got != 1 {
				t.Errorf("RefreshFailures %d, want 1", got)
			}
		})
	}
}
