package oidcauth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
)

// The tests in this file need time to pass: they run in a synctest bubble,
// with the provider reached through memoryProvider's in-memory transport.

const memoryIssuer = "http://localhost"

// TestRemovedKeyStopsVerifyingWithinKeyMaxAge: the provider rotates with an
// overlap (new key signing, old key still published), then drops the old
// key. The new key's tokens pass as soon as they appear; the old key's pass
// while it is published and fail once KeyMaxAge has passed since the
// Verifier last fetched the set.
func TestRemovedKeyStopsVerifyingWithinKeyMaxAge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := memoryProvider(t, memoryIssuer, newStorage(t))
		v := newVerifier(t, p, oidcauth.Options{KeyMaxAge: 10 * time.Minute})
		old := p.token(t, clientLong)
		time.Sleep(time.Minute) // past the refresh interval of New's fetch

		next := &opKey{id: "key-2", alg: jose.RS256, priv: rsaKeys()[1]}
		p.rotate(next, next.published(), p.signing.published())
		if _, err := v.Authenticate(t.Context(), p.token(t, clientLong)); err != nil {
			t.Fatalf("a token of the new key: %v", err)
		}
		p.publish(next.published())
		if _, err := v.Authenticate(t.Context(), old); err != nil {
			t.Errorf("the old key, before KeyMaxAge: %v", err)
		}
		time.Sleep(10 * time.Minute)
		if _, err := v.Authenticate(t.Context(), old); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("the removed key, after KeyMaxAge: err = %v, want ErrInvalidToken", err)
		}
		if n := p.keyFetches.Load(); n != 3 {
			t.Errorf("%d key set fetches, want 3 (New, the new key, KeyMaxAge)", n)
		}
	})
}

// TestUnknownKeysAreRateLimited: tokens naming keys the provider never
// published make the Verifier fetch the key set at most once per
// RefreshInterval, and a real rotation is still picked up in the next
// interval.
func TestUnknownKeysAreRateLimited(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := memoryProvider(t, memoryIssuer, newStorage(t))
		v := newVerifier(t, p, oidcauth.Options{RefreshInterval: 30 * time.Second})
		attacker := rsaKeys()[2]
		madeUp := func(i int) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(p.issuer))
			tok.Header["kid"] = fmt.Sprintf("made-up-%d", i)
			s, err := tok.SignedString(attacker)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		spray := func(from int) {
			for i := from; i < from+50; i++ {
				if _, err := v.Authenticate(t.Context(), madeUp(i)); !errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("made-up key %d: err = %v, want ErrInvalidToken", i, err)
				}
			}
		}
		spray(0)
		if n := p.keyFetches.Load(); n != 1 {
			t.Fatalf("%d key set fetches within the first interval, want 1 (New's)", n)
		}
		time.Sleep(30 * time.Second)
		spray(100)
		if n := p.keyFetches.Load(); n != 2 {
			t.Fatalf("%d key set fetches after one interval, want 2", n)
		}

		next := &opKey{id: "key-2", alg: jose.RS256, priv: rsaKeys()[1]}
		p.rotate(next, next.published())
		rotated := p.token(t, clientChat)
		if _, err := v.Authenticate(t.Context(), rotated); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("a new key within the interval: err = %v, want ErrInvalidToken until the next fetch", err)
		}
		time.Sleep(30 * time.Second)
		if _, err := v.Authenticate(t.Context(), rotated); err != nil {
			t.Errorf("a new key in the next interval: %v", err)
		}
	})
}

// TestStaleKeysFailClosedAndRecover: while the provider is down, a key set
// older than KeyMaxAge is no longer trusted, so the breaker of auth.Unified
// opens; when the provider is back, the probe after the cooldown fetches
// the set and closes it.
func TestStaleKeysFailClosedAndRecover(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := memoryProvider(t, memoryIssuer, newStorage(t))
		v := newVerifier(t, p, oidcauth.Options{KeyMaxAge: 10 * time.Minute})
		u, err := auth.New(v, auth.Options{Breaker: auth.BreakerOptions{Failures: 2, Cooldown: time.Minute}, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close(context.Background())
		tok := p.token(t, clientLong)
		if _, err := u.Authenticate(t.Context(), tok); err != nil {
			t.Fatal(err)
		}

		p.down.Store(true)
		time.Sleep(10 * time.Minute) // the identity left the cache long ago; the keys are stale
		for range 2 {
			if _, err := u.Authenticate(t.Context(), tok); !errors.Is(err, auth.ErrUnavailable) {
				t.Fatalf("stale keys, provider down: err = %v, want ErrUnavailable", err)
			}
		}
		if st := u.Stats(); st.Breaker != auth.BreakerOpen {
			t.Fatalf("breaker %v, want open", st.Breaker)
		}

		p.down.Store(false)
		time.Sleep(time.Minute)
		if id, err := u.Authenticate(t.Context(), tok); err != nil || id.UserID != subjectAlice {
			t.Fatalf("provider back, after the cooldown: %v, %v", id, err)
		}
		if st := u.Stats(); st.Breaker != auth.BreakerClosed {
			t.Errorf("breaker %v after a successful probe, want closed", st.Breaker)
		}
	})
}

// TestExpiryWithinLeeway: a token passes until its exp plus Leeway, fails
// with ErrExpired after, and its identity carries exp.
func TestExpiryWithinLeeway(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := memoryProvider(t, memoryIssuer, newStorage(t))
		v := newVerifier(t, p, oidcauth.Options{Leeway: 30 * time.Second, KeyMaxAge: 24 * time.Hour})
		tok := p.token(t, clientChat)
		exp := time.Now().Add(tokenLifetime)
		id, err := v.Authenticate(t.Context(), tok)
		if err != nil || !id.ExpiresAt.Equal(exp) {
			t.Fatalf("fresh token: ExpiresAt %v, %v; want %v", id.ExpiresAt, err, exp)
		}
		time.Sleep(tokenLifetime + 29*time.Second)
		if _, err := v.Authenticate(t.Context(), tok); err != nil {
			t.Errorf("29s past exp, within the leeway: %v", err)
		}
		time.Sleep(2 * time.Second)
		if _, err := v.Authenticate(t.Context(), tok); !errors.Is(err, auth.ErrExpired) {
			t.Errorf("31s past exp: err = %v, want ErrExpired", err)
		}
	})
}
