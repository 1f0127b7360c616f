package oidcauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ssotkit/ssot/auth"
)

// The tests in this file run auth.NewIntrospection, the library's RFC 7662
// backend, against the introspection endpoint of the same real provider,
// authenticated as the chat API (client_secret_basic), as the provider
// requires of a resource server.

// introspectionEndpoint reads the endpoint from the provider's discovery
// document, as a deployment would.
func introspectionEndpoint(t *testing.T, p *testProvider) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Endpoint string `json:"introspection_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Endpoint == "" {
		t.Fatalf("discovery document without introspection_endpoint: %v", err)
	}
	return doc.Endpoint
}

func newIntrospection(t *testing.T, p *testProvider, clientSecret string) *auth.Introspection {
	t.Helper()
	in, err := auth.NewIntrospection(introspectionEndpoint(t, p), nil, auth.IntrospectionOptions{ClientID: clientAPI, ClientSecret: clientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestIntrospectionAgainstARealProvider(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	in := newIntrospection(t, p, secret)
	revoked := p.token(t, clientOpaque)
	if _, err := in.Authenticate(t.Context(), revoked); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	p.revoke(t, clientOpaque, revoked)
	// Before the tokens are minted: their exp is at least this plus their
	// lifetime, however long the minting and the subtests take.
	minted := time.Now()
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"active opaque token", p.token(t, clientOpaque), nil},
		{"active JWT access token", p.token(t, clientChat), nil},
		{"inactive: never issued", "not-a-token-of-this-provider", auth.ErrInvalidToken},
		{"inactive: issued for another API", p.token(t, clientBilling), auth.ErrInvalidToken},
		{"revoked", revoked, auth.ErrInvalidToken},
		// RFC 7662 reports an expired token inactive.
		{"expired", p.token(t, clientExpired), auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := in.Authenticate(t.Context(), tt.token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || id.UserID != "" {
					t.Fatalf("Authenticate() = %v, %v; want %v and no identity", id, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// "exp" has second resolution.
			if id.ExpiresAt.Before(minted.Add(tokenLifetime-time.Second)) || id.ExpiresAt.After(time.Now().Add(tokenLifetime)) {
				t.Errorf("ExpiresAt %v, want the token's exp, about %v from now", id.ExpiresAt, tokenLifetime)
			}
			if diff := cmp.Diff(wantIdentity(), id, cmpopts.IgnoreFields(auth.Identity{}, "ExpiresAt")); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntrospectionFailuresAreUnavailable: a resource server the provider
// refuses, or a provider that is down, is ErrUnavailable, never a verdict
// on the token, and auth.Unified's breaker opens on it.
func TestIntrospectionFailuresAreUnavailable(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	tok := p.token(t, clientOpaque)
	if _, err := newIntrospection(t, p, "wrong-secret").Authenticate(t.Context(), tok); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("client authentication refused: err = %v, want ErrUnavailable", err)
	}

	u, err := auth.New(newIntrospection(t, p, secret), auth.Options{Breaker: auth.BreakerOptions{Failures: 2, Cooldown: time.Hour}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close(context.Background()) })
	tokens := []string{tok, p.token(t, clientOpaque)}
	p.stop()
	for _, tok := range tokens {
		if _, err := u.Authenticate(t.Context(), tok); !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("provider down: err = %v, want ErrUnavailable", err)
		}
	}
	if st := u.Stats(); st.Breaker != auth.BreakerOpen {
		t.Errorf("breaker %v after two failed introspections, want open", st.Breaker)
	}
}
