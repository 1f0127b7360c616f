package oidcauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// testProvider is a real OpenID provider, the op package of
// github.com/zitadel/oidc, over storage written for these tests: clients
// that get tokens with the client credentials grant, signing keys the test
// rotates, tokens it revokes. It serves on 127.0.0.1 (startProvider) or, for
// tests inside a synctest bubble, through an in-memory transport
// (memoryProvider) that calls the same handler.
type testProvider struct {
	*opStorage
	issuer     string
	handler    http.Handler
	client     *http.Client // reaches the provider; nil: the default transport
	keyFetches atomic.Int64 // requests for the key set
	down       atomic.Bool  // memoryProvider only: requests fail as if refused
	keysDown   atomic.Bool  // the key set answers 502 Bad Gateway
	keysTo     atomic.Value // a string: when set, the key set answers 302 to it
	stop       func()       // startProvider only: closes the listener, so connections are refused
}

// The clients of every test provider. Each gets tokens for one subject with
// the client credentials grant.
const (
	clientChat     = "chat-web"     // JWT access tokens for the chat API
	clientOpaque   = "chat-opaque"  // opaque access tokens for the chat API
	clientBilling  = "billing-web"  // JWT access tokens for another API
	clientExpired  = "chat-expired" // JWT access tokens already expired
	clientLong     = "chat-long"    // JWT access tokens valid for longLifetime
	clientAPI      = "chat-api"     // the chat API itself, which introspects
	secret         = "client-secret-for-tests"
	audienceChat   = "chat-api"
	audienceOther  = "billing-api"
	subjectAlice   = "alice"
	emailAlice     = "alice@example.com"
	expiredLeeway  = 2 * oidcLeeway // how far past exp an expired token is
	oidcLeeway     = time.Minute
	tokenLifetime  = 5 * time.Minute
	longLifetime   = 3 * time.Hour
	introspectPath = "/oauth/introspect"
	revokePath     = "/revoke"
	tokenPath      = "/oauth/token"
	movedKeysPath  = "/moved/keys" // serves the key set without counting or redirecting
)

// startProvider serves a new provider on 127.0.0.1 until the test ends.
func startProvider(t testing.TB) *testProvider {
	t.Helper()
	p := &testProvider{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.init(t, "http://"+srv.Listener.Addr().String(), newStorage(t))
	srv.Start()
	p.stop = srv.Close
	t.Cleanup(srv.Close)
	return p
}

// startTLSProvider serves a new provider over TLS on 127.0.0.1 until the
// test ends; its client trusts the server's certificate.
func startTLSProvider(t testing.TB) *testProvider {
	t.Helper()
	p := &testProvider{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.init(t, srv.URL, newStorage(t))
	p.client = srv.Client()
	p.stop = srv.Close
	return p
}

// memoryProvider returns a provider reached through an in-memory transport,
// for tests inside a synctest bubble, where network I/O would stop fake time
// from advancing. Its client is the one to give the Verifier.
func memoryProvider(t testing.TB, issuer string, s *opStorage) *testProvider {
	t.Helper()
	p := &testProvider{}
	p.client = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if p.down.Load() {
			return nil, errors.New("dial tcp: connection refused")
		}
		in := r.Clone(r.Context())
		in.RequestURI = r.URL.RequestURI()
		if in.Body == nil {
			in.Body = http.NoBody
		}
		rec := httptest.NewRecorder()
		p.serve(rec, in)
		return rec.Result(), nil
	})}
	p.init(t, issuer, s)
	return p
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *testProvider) init(t testing.TB, issuer string, s *opStorage) {
	t.Helper()
	p.opStorage, p.issuer = s, issuer
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("opaque token key")), CodeMethodS256: true}
	h, err := op.NewProvider(cfg, s, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	p.handler = h
}

func (p *testProvider) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == movedKeysPath {
		r = r.Clone(r.Context())
		r.URL.Path = "/keys"
		p.handler.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/keys" {
		p.keyFetches.Add(1)
		if p.keysDown.Load() {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		if to, _ := p.keysTo.Load().(string); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
	}
	p.handler.ServeHTTP(w, r)
}

// httpClient returns the client that reaches the provider.
func (p *testProvider) httpClient() *http.Client {
	if p.client != nil {
		return p.client
	}
	return http.DefaultClient
}

// token gets an access token for clientID with the client credentials
// grant, at the provider's token endpoint.
func (p *testProvider) token(t testing.TB, clientID string) string {
	t.Helper()
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	p.post(t, tokenPath, clientID, url.Values{"grant_type": {"client_credentials"}, "scope": {"chat:read chat:write"}}, &resp)
	if resp.AccessToken == "" {
		t.Fatalf("the provider issued no token to %s", clientID)
	}
	return resp.AccessToken
}

// revoke revokes token at the provider's revocation endpoint (RFC 7009),
// authenticated as clientID, the client the token was issued to.
func (p *testProvider) revoke(t testing.TB, clientID, token string) {
	t.Helper()
	p.post(t, revokePath, clientID, url.Values{"token": {token}, "token_type_hint": {"access_token"}}, nil)
}

func (p *testProvider) post(t testing.TB, path, clientID string, form url.Values, dst any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := p.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s as %s: status %d", path, clientID, resp.StatusCode)
	}
	if dst != nil {
		if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
}

// Generating RSA keys is slow; the tests share a few, never mutated.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// opKey is a signing key of the provider.
type opKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *opKey) Key() any                                    { return k.priv }
func (k *opKey) ID() string                                  { return k.id }

// publishedKey is a key in the provider's key set.
type publishedKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any // a public key, or an HMAC secret a misconfigured provider publishes
}

func (k publishedKey) ID() string                         { return k.id }
func (k publishedKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k publishedKey) Use() string                        { return "sig" }
func (k publishedKey) Key() any                           { return k.key }

func (k *opKey) published() publishedKey {
	return publishedKey{id: k.id, alg: k.alg, key: k.priv.Public()}
}

// opClient is a client of the provider; it acts for one subject.
type opClient struct {
	id       string
	audience []string
	lifetime time.Duration
	jwt      bool
}

func (c *opClient) GetID() string                        { return c.id }
func (c *opClient) RedirectURIs() []string               { return nil }
func (c *opClient) PostLogoutRedirectURIs() []string     { return nil }
func (c *opClient) ApplicationType() op.ApplicationType  { return op.ApplicationTypeWeb }
func (c *opClient) AuthMethod() oidc.AuthMethod          { return oidc.AuthMethodBasic }
func (c *opClient) ResponseTypes() []oidc.ResponseType   { return nil }
func (c *opClient) LoginURL(string) string               { return "" }
func (c *opClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *opClient) DevMode() bool                        { return false }
func (c *opClient) IsScopeAllowed(string) bool           { return true }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
func (c *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (c *opClient) AccessTokenType() op.AccessTokenType {
	if c.jwt {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// opToken is an access token the provider issued.
type opToken struct {
	clientID string
	subject  string
	audience []string
	scopes   []string
	expires  time.Time
	revoked  bool
}

// tokenRequest is a client credentials request, as the provider hands it to
// the storage to create the token.
type tokenRequest struct {
	clientID string
	audience []string
	scopes   []string
}

func (r *tokenRequest) GetSubject() string    { return subjectAlice }
func (r *tokenRequest) GetAudience() []string { return r.audience }
func (r *tokenRequest) GetScopes() []string   { return r.scopes }

// opStorage is the provider's in-memory state. Every client acts for alice.
type opStorage struct {
	mu        sync.Mutex
	signing   *opKey
	published []op.Key
	clients   map[string]*opClient
	tokens    map[string]*opToken
	next      int
}

func newStorage(t testing.TB) *opStorage {
	t.Helper()
	k := &opKey{id: "key-1", alg: jose.RS256, priv: rsaKeys()[0]}
	return &opStorage{
		signing:   k,
		published: []op.Key{k.published()},
		clients: map[string]*opClient{
			clientChat:    {id: clientChat, audience: []string{audienceChat}, lifetime: tokenLifetime, jwt: true},
			clientOpaque:  {id: clientOpaque, audience: []string{audienceChat}, lifetime: tokenLifetime},
			clientBilling: {id: clientBilling, audience: []string{audienceOther}, lifetime: tokenLifetime, jwt: true},
			clientExpired: {id: clientExpired, audience: []string{audienceChat}, lifetime: -expiredLeeway, jwt: true},
			clientLong:    {id: clientLong, audience: []string{audienceChat}, lifetime: longLifetime, jwt: true},
			clientAPI:     {id: clientAPI, audience: []string{audienceChat}, lifetime: tokenLifetime},
		},
		tokens: map[string]*opToken{},
	}
}

// rotate makes next the signing key and publishes the keys in publish.
func (s *opStorage) rotate(next *opKey, publish ...op.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signing, s.published = next, publish
}

// publish sets the published key set, leaving the signing key as it is.
func (s *opStorage) publish(keys ...op.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = keys
}

// ecKey returns a new P-256 signing key.
func ecKey(t testing.TB, id string) *opKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &opKey{id: id, alg: jose.ES256, priv: k}
}

var errUnsupported = errors.New("not supported by the test provider")

func (s *opStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) SaveAuthCode(context.Context, string, string) error { return errUnsupported }
func (s *opStorage) DeleteAuthRequest(context.Context, string) error    { return errUnsupported }
func (s *opStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}
func (s *opStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}
func (s *opStorage) TerminateSession(context.Context, string, string) error { return nil }
func (s *opStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}
func (s *opStorage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errUnsupported
}
func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}
func (s *opStorage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}
func (s *opStorage) Health(context.Context) error { return nil }

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signing, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []jose.SignatureAlgorithm{s.signing.alg}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.published), nil
}

func (s *opStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, errors.New("no such client")
	}
	return c, nil
}

func (s *opStorage) AuthorizeClientIDSecret(_ context.Context, id, sec string) error {
	if _, ok := s.clients[id]; !ok || sec != secret {
		return errors.New("wrong client credentials")
	}
	return nil
}

func (s *opStorage) ClientCredentials(ctx context.Context, id, sec string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, sec); err != nil {
		return nil, err
	}
	return s.clients[id], nil
}

func (s *opStorage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	return &tokenRequest{clientID: id, audience: s.clients[id].audience, scopes: scopes}, nil
}

func (s *opStorage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	r, ok := req.(*tokenRequest)
	if !ok {
		return "", time.Time{}, errUnsupported
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("token-%d", s.next)
	exp := time.Now().Add(s.clients[r.clientID].lifetime)
	s.tokens[id] = &opToken{clientID: r.clientID, subject: r.GetSubject(), audience: r.audience, scopes: r.scopes, expires: exp}
	return id, exp, nil
}

func (s *opStorage) RevokeToken(_ context.Context, id, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[id]
	if !ok {
		return nil // RFC 7009: an unknown token is not an error
	}
	if tok.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token issued to another client")
	}
	tok.revoked = true
	return nil
}

// SetIntrospectionFromToken answers for live tokens issued for the
// introspecting resource server only; the provider reports the others
// inactive.
func (s *opStorage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, id, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[id]
	switch {
	case !ok || tok.subject != subject:
		return errors.New("unknown token")
	case tok.revoked:
		return errors.New("revoked")
	case !time.Now().Before(tok.expires):
		return errors.New("expired")
	case !slices.Contains(tok.audience, clientID):
		return errors.New("not issued for this resource server")
	}
	resp.Subject = tok.subject
	resp.Email = emailAlice
	resp.Scope = tok.scopes
	resp.ClientID = tok.clientID
	resp.Audience = tok.audience
	resp.Expiration = oidc.FromTime(tok.expires)
	return nil
}

// GetPrivateClaimsFromScopes puts the e-mail address and the granted
// scopes into JWT access tokens.
func (s *opStorage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	return map[string]any{"email": emailAlice, "scope": strings.Join(scopes, " ")}, nil
}

var (
	_ op.Storage                  = (*opStorage)(nil)
	_ op.ClientCredentialsStorage = (*opStorage)(nil)
)
