package oidcauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
)

// signedWith returns a token with valid claims for p, signed with key and
// naming kid.
func signedWith(t testing.TB, p *testProvider, kid string, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(p.issuer))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUnknownKeysDuringAKeySetOutage: while the provider's key set answers
// 502, tokens naming made-up keys are invalid tokens, not an outage, so they
// cannot open the breaker of auth.Unified, and a token the cached key
// verifies still passes.
func TestUnknownKeysDuringAKeySetOutage(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	v := newVerifier(t, p, oidcauth.Options{RefreshInterval: time.Nanosecond})
	u, err := auth.New(v, auth.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close(context.Background()) })
	valid := p.token(t, clientChat)

	p.keysDown.Store(true)
	attacker := rsaKeys()[2]
	for i := range 20 {
		if _, err := u.Authenticate(t.Context(), signedWith(t, p, fmt.Sprintf("made-up-%d", i), attacker)); !errors.Is(err, auth.ErrBadSignature) {
			t.Fatalf("made-up key %d during the outage: err = %v, want ErrBadSignature", i, err)
		}
	}
	if n := p.keyFetches.Load(); n < 2 {
		t.Errorf("%d key set fetches; want the made-up keys to have tried the failing set", n)
	}
	if st := u.Stats(); st.Breaker != auth.BreakerClosed {
		t.Errorf("breaker %v after tokens naming made-up keys, want closed", st.Breaker)
	}
	if id, err := u.Authenticate(t.Context(), valid); err != nil || id.UserID != subjectAlice {
		t.Errorf("a token of the cached key during the outage: %v, %v", id, err)
	}
}

// TestRedirectsOfTheKeySet: a key set redirected to plain http, or to
// another origin, is refused, so a key set an attacker serves there never
// verifies a token; a redirect within the issuer's origin is followed.
func TestRedirectsOfTheKeySet(t *testing.T) {
	t.Parallel()
	attacker := rsaKeys()[2]
	attackerSet := func(w http.ResponseWriter, r *http.Request) {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: attacker.Public(), KeyID: "attacker-1", Algorithm: "RS256", Use: "sig"}}}
		if err := json.NewEncoder(w).Encode(set); err != nil {
			t.Error(err)
		}
	}
	plain := httptest.NewServer(http.HandlerFunc(attackerSet))
	t.Cleanup(plain.Close)
	otherTLS := httptest.NewTLSServer(http.HandlerFunc(attackerSet))
	t.Cleanup(otherTLS.Close)

	for _, tt := range []struct {
		name string
		to   func(p *testProvider) string
	}{
		{"to plain http", func(*testProvider) string { return plain.URL + "/keys" }},
		{"to another https origin", func(*testProvider) string { return otherTLS.URL + "/keys" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startTLSProvider(t)
			v := newVerifier(t, p, oidcauth.Options{RefreshInterval: time.Nanosecond})
			if _, err := v.Authenticate(t.Context(), p.token(t, clientChat)); err != nil {
				t.Fatal(err)
			}
			p.keysTo.Store(tt.to(p))
			if _, err := v.Authenticate(t.Context(), signedWith(t, p, "attacker-1", attacker)); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("a token of the key set redirected %s: err = %v, want ErrInvalidToken", tt.name, err)
			}
			_, err := oidcauth.New(t.Context(), p.issuer, oidcauth.Options{Audience: audienceChat, Client: p.client, Logger: quiet()})
			if !errors.Is(err, oidcauth.ErrRedirect) || !errors.Is(err, auth.ErrUnavailable) {
				t.Errorf("New with the key set redirected %s: err = %v, want ErrRedirect and ErrUnavailable", tt.name, err)
			}
		})
	}

	t.Run("within the issuer's origin", func(t *testing.T) {
		t.Parallel()
		p := startTLSProvider(t)
		v := newVerifier(t, p, oidcauth.Options{RefreshInterval: time.Nanosecond})
		p.keysTo.Store(p.issuer + movedKeysPath)
		next := &opKey{id: "key-2", alg: jose.RS256, priv: rsaKeys()[1]}
		p.rotate(next, next.published())
		if id, err := v.Authenticate(t.Context(), p.token(t, clientChat)); err != nil || id.UserID != subjectAlice {
			t.Errorf("a token of a key the redirected set holds: %v, %v", id, err)
		}
	})
}
