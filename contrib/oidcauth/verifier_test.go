package oidcauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newVerifier discovers p with opts, Audience defaulting to the chat API.
func newVerifier(t testing.TB, p *testProvider, opts oidcauth.Options) *oidcauth.Verifier {
	t.Helper()
	if opts.Audience == "" {
		opts.Audience = audienceChat
	}
	if opts.Client == nil {
		opts.Client = p.client
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	v, err := oidcauth.New(t.Context(), p.issuer, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantIdentity is the identity of every token the test provider issues to
// a chat client.
func wantIdentity() auth.Identity {
	return auth.Identity{UserID: subjectAlice, Email: emailAlice, Scopes: []string{"chat:read", "chat:write"}}
}

func TestTokensOfARealProvider(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	// A second issuer over the same storage signs with the same keys: only
	// its "iss" differs.
	other := memoryProvider(t, "https://other.example", p.opStorage)
	v := newVerifier(t, p, oidcauth.Options{})

	valid := p.token(t, clientChat)
	parts := strings.Split(valid, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), subjectAlice, "admin", 1)))
	sig := []byte(parts[2])
	sig[len(sig)/2] ^= 1 // still base64url, another signature
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"valid", valid, nil},
		{"expired", p.token(t, clientExpired), auth.ErrExpired},
		{"wrong audience", p.token(t, clientBilling), auth.ErrInvalidToken},
		{"wrong issuer, right key", other.token(t, clientChat), auth.ErrInvalidToken},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(sig), auth.ErrInvalidToken},
		{"tampered payload", parts[0] + "." + forged + "." + parts[2], auth.ErrInvalidToken},
		{"opaque token of the same provider", p.token(t, clientOpaque), auth.ErrInvalidToken},
		{"alg none naming the provider's key", unsigned(t, p), auth.ErrInvalidToken},
		{"garbage", "not.a.token", auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := v.Authenticate(t.Context(), tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || id.UserID != "" {
					t.Fatalf("Authenticate() = %v, %v; want %v and no identity", id, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tt.token) || strings.Contains(err.Error(), subjectAlice) {
					t.Errorf("error %q quotes the token or a claim", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.ExpiresAt.Before(time.Now()) || id.ExpiresAt.After(time.Now().Add(tokenLifetime)) {
				t.Errorf("ExpiresAt %v is not the token's exp", id.ExpiresAt)
			}
			if diff := cmp.Diff(wantIdentity(), id, cmpopts.IgnoreFields(auth.Identity{}, "ExpiresAt")); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
		})
	}
	if n := p.keyFetches.Load(); n != 1 {
		t.Errorf("%d key set fetches; want 1, at New: every token named a key the Verifier had", n)
	}
}

// unsigned returns a token with alg "none" whose header names the
// provider's signing key and whose claims are valid.
func unsigned(t testing.TB, p *testProvider) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(p.issuer))
	tok.Header["kid"] = p.signing.id
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsFor(issuer string) jwt.MapClaims {
	return jwt.MapClaims{"iss": issuer, "sub": subjectAlice, "aud": audienceChat, "exp": time.Now().Add(time.Hour).Unix()}
}

// TestHMACFromTheKeySetIsNeverAccepted: a provider that publishes a
// symmetric key has published its secret; a token signed with it must fail
// whatever the options, and HMAC algorithms cannot be configured.
func TestHMACFromTheKeySetIsNeverAccepted(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	hmacKey := []byte(strings.Repeat("h", 32))
	p.publish(p.signing.published(), publishedKey{id: "hmac-1", alg: jose.HS256, key: hmacKey})
	v := newVerifier(t, p, oidcauth.Options{Algorithms: []string{"RS256", "ES256", "EdDSA"}})

	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor(p.issuer))
	tok.Header["kid"] = "hmac-1"
	signed, err := tok.SignedString(hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(t.Context(), signed); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("HS256 with the published secret: err = %v, want ErrInvalidToken", err)
	}
	if _, err := v.Authenticate(t.Context(), p.token(t, clientChat)); err != nil {
		t.Errorf("the provider's RS256 token beside the HMAC key: %v", err)
	}
	for _, alg := range []string{"HS256", "HS384", "HS512", "none", ""} {
		if _, err := oidcauth.New(t.Context(), p.issuer, oidcauth.Options{Audience: audienceChat, Algorithms: []string{alg}}); !errors.Is(err, oidcauth.ErrInvalidOptions) {
			t.Errorf("Algorithms %q: err = %v, want ErrInvalidOptions", alg, err)
		}
	}
}

// TestKeyRotationAtTheProvider: the provider replaces its key at once; the
// new key's tokens pass without a restart and the old key's fail.
func TestKeyRotationAtTheProvider(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	v := newVerifier(t, p, oidcauth.Options{RefreshInterval: time.Nanosecond})
	before := p.token(t, clientChat)
	if _, err := v.Authenticate(t.Context(), before); err != nil {
		t.Fatal(err)
	}

	next := &opKey{id: "key-2", alg: jose.RS256, priv: rsaKeys()[1]}
	p.rotate(next, next.published())
	after := p.token(t, clientChat)
	if id, err := v.Authenticate(t.Context(), after); err != nil || id.UserID != subjectAlice {
		t.Fatalf("a token of the new key: %v, %v", id, err)
	}
	if _, err := v.Authenticate(t.Context(), before); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a token of the removed key: err = %v, want ErrInvalidToken", err)
	}
	// New, the new key, and the removed key each fetched the set once.
	if n := p.keyFetches.Load(); n != 3 {
		t.Errorf("%d key set fetches, want 3", n)
	}
}

// TestAnotherAlgorithm: a provider signing with ES256 is accepted once the
// allow-list names it, and refused (no usable key) while it does not.
func TestAnotherAlgorithm(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	ec := ecKey(t, "ec-1")
	p.rotate(ec, ec.published())
	if _, err := oidcauth.New(t.Context(), p.issuer, oidcauth.Options{Audience: audienceChat, Logger: quiet()}); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("only an ES256 key while RS256 is allowed: err = %v, want ErrUnavailable", err)
	}
	v := newVerifier(t, p, oidcauth.Options{Algorithms: []string{"ES256"}})
	if id, err := v.Authenticate(t.Context(), p.token(t, clientChat)); err != nil || id.UserID != subjectAlice {
		t.Errorf("ES256 token: %v, %v", id, err)
	}
}

// TestClaimsMapping: Options.Claims picks other claims of the provider's
// tokens for the identity.
func TestClaimsMapping(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	v := newVerifier(t, p, oidcauth.Options{Claims: jwtauth.ClaimNames{UserID: "client_id", Scopes: []string{}}})
	id, err := v.Authenticate(t.Context(), p.token(t, clientChat))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(auth.Identity{UserID: clientChat, Email: emailAlice}, id, cmpopts.IgnoreFields(auth.Identity{}, "ExpiresAt")); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
}

// TestProviderDown: the provider goes away after rotating its key. While
// the cached key set is younger than KeyMaxAge, tokens of the new key are
// invalid tokens (the Verifier cannot know the key), not an outage: the
// breaker of auth.Unified stays closed and tokens of the cached key pass.
// The failed fetches are logged. A set older than KeyMaxAge fails closed:
// see TestStaleKeysFailClosedAndRecover.
func TestProviderDown(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	logger, logs := testlog.New()
	v := newVerifier(t, p, oidcauth.Options{RefreshInterval: time.Nanosecond, Logger: logger})
	u, err := auth.New(v, auth.Options{Breaker: auth.BreakerOptions{Failures: 2, Cooldown: time.Hour}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close(context.Background()) })
	ctx := t.Context()
	cached, uncached := p.token(t, clientChat), p.token(t, clientChat)
	if _, err := u.Authenticate(ctx, cached); err != nil {
		t.Fatal(err)
	}

	next := &opKey{id: "key-2", alg: jose.RS256, priv: rsaKeys()[1]}
	p.rotate(next, next.published())
	rotated := []string{p.token(t, clientChat), p.token(t, clientChat)}
	p.stop()

	for _, tok := range rotated {
		if _, err := u.Authenticate(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("new key, provider down, cached set fresh: err = %v, want ErrInvalidToken", err)
		}
	}
	if st := u.Stats(); st.Breaker != auth.BreakerClosed {
		t.Errorf("breaker %v after tokens of a key the cached set lacks, want closed", st.Breaker)
	}
	if id, err := u.Authenticate(ctx, uncached); err != nil || id.UserID != subjectAlice {
		t.Errorf("an uncached token of the cached key: %v, %v", id, err)
	}
	if !strings.Contains(logs.String(), "fetching the provider's key set failed") {
		t.Errorf("the failed fetch was not logged:\n%s", logs)
	}
	for _, tok := range append(rotated, cached, uncached) {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("the log holds a token:\n%s", logs)
		}
	}
}
