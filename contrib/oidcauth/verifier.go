package oidcauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

// Verifier checks JSON Web Tokens issued by one OpenID provider against the
// provider's published keys and maps their claims to an auth.Identity. It
// is safe for concurrent use and starts no goroutine; the zero value is not
// usable: build one with New. Put it behind an auth.Unified for caching,
// deduplication and a circuit breaker.
type Verifier struct {
	issuer string
	algs   []string
	keys   *keySet
}

var _ auth.Authenticator = (*Verifier)(nil)

// New discovers the OpenID provider at issuer (its configuration at
// issuer + "/.well-known/openid-configuration") and fetches its key set, so
// that a service refuses to start against a provider it cannot use.
//
// issuer is the provider's issuer identifier exactly as its tokens carry it
// in "iss" (for example "https://login.example.com/realms/chat"): an
// absolute https URL, or http on a loopback host. New returns an error
// wrapping ErrInvalidOptions for a bad issuer or options, ErrDiscovery for
// an unusable discovery document, and auth.ErrUnavailable when the provider
// cannot be reached or publishes no key for the allowed algorithms.
func New(ctx context.Context, issuer string, opts Options) (*Verifier, error) {
	if err := checkURL(issuer); err != nil {
		return nil, fmt.Errorf("%w: issuer is %w", ErrInvalidOptions, err)
	}
	issuerURL, _ := url.Parse(issuer) // checkURL parsed it
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &fetcher{client: guardRedirects(opts.Client, issuerURL), timeout: opts.Timeout, maxBody: opts.MaxResponseBytes}
	jwksURI, err := discover(ctx, f, issuer)
	if err != nil {
		return nil, err
	}
	ks := &keySet{
		url:     jwksURI,
		fetch:   f,
		algs:    opts.Algorithms,
		verify:  jwtauth.Options{Issuer: issuer, Audience: opts.Audience, Leeway: opts.Leeway, Claims: opts.Claims},
		refresh: opts.RefreshInterval,
		maxAge:  opts.KeyMaxAge,
		logger:  opts.Logger,
	}
	ks.attempted = time.Now()
	if err := ks.refetch(ctx); err != nil {
		return nil, err
	}
	return &Verifier{issuer: issuer, algs: opts.Algorithms, keys: ks}, nil
}

// Authenticate verifies token and returns the identity it carries.
//
// A token is accepted only if its "alg" is one of Options.Algorithms, it is
// signed by a key the provider publishes (named by the token's "kid"; a
// token without "kid" only when the provider publishes a single key for its
// algorithm), its "iss" is the issuer, its "aud" holds Options.Audience, it
// has an "exp" that has not passed, its "nbf" and "iat" (when present) are
// not in the future, all within Options.Leeway, and it carries a user ID.
// Identity.ExpiresAt is its "exp".
//
// An expired token fails with an error wrapping auth.ErrExpired, any other
// rejected token with one wrapping auth.ErrInvalidToken and the kind of
// the check that failed (auth.ErrMalformed, auth.ErrBadSignature for an
// algorithm not allowed or a key the key set lacks, and jwtauth's kinds for
// the claims), and a token that could not be checked because the key set
// is older than Options.KeyMaxAge and could not be fetched with one
// wrapping auth.ErrUnavailable, which auth.Unified counts toward opening
// its breaker. A token naming a key the cached set lacks, while that set is
// younger than Options.KeyMaxAge, is an invalid token even when fetching
// the set again fails, so that tokens naming made-up keys during a key set
// outage cannot open the breaker. Errors never quote the token or a claim
// value.
func (v *Verifier) Authenticate(ctx context.Context, token string) (auth.Identity, error) {
	alg, kid, err := parseHeader(token)
	if err != nil {
		return auth.Identity{}, err
	}
	if !slices.Contains(v.algs, alg) {
		return auth.Identity{}, fmt.Errorf("%w: algorithm not allowed", auth.ErrBadSignature)
	}
	vs, err := v.keys.verifiers(ctx, kid, alg)
	if err != nil {
		return auth.Identity{}, err
	}
	for _, kv := range vs[:len(vs)-1] {
		if id, err := kv.Authenticate(ctx, token); err == nil {
			return id, nil
		}
	}
	return vs[len(vs)-1].Authenticate(ctx, token)
}

// maxHeaderLen bounds the encoded JOSE header read before verification.
const maxHeaderLen = 2048

// parseHeader returns the "alg" and "kid" of a compact JWS without
// verifying anything, to pick the key.
func parseHeader(token string) (alg, kid string, err error) {
	enc, _, ok := strings.Cut(token, ".")
	if !ok || len(enc) > maxHeaderLen {
		return "", "", fmt.Errorf("%w: malformed token", auth.ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", "", fmt.Errorf("%w: malformed token", auth.ErrMalformed)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", "", fmt.Errorf("%w: malformed token header", auth.ErrMalformed)
	}
	return h.Alg, h.Kid, nil
}
