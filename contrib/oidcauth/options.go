package oidcauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/ssotkit/ssot/contrib/jwtauth"
)

// Defaults and bounds of Options.
const (
	DefaultLeeway           = time.Minute
	MaxLeeway               = 5 * time.Minute
	DefaultTimeout          = 10 * time.Second
	DefaultRefreshInterval  = 30 * time.Second
	DefaultKeyMaxAge        = time.Hour
	DefaultMaxResponseBytes = 1 << 20
)

// supportedAlgorithms are the asymmetric JWS algorithms a Verifier can
// check. A key set is public, so "none" and the HMAC algorithms, whose key
// would be the published one, are never among them.
func supportedAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
}

// Options configures a Verifier. Audience is required; every other field
// has a default. New copies it; changing it afterwards has no effect.
type Options struct {
	// Audience must be one of a token's "aud" values: this service's
	// identifier at the provider (an API identifier at Auth0, an
	// application ID URI at Entra ID, a client ID at Keycloak or Google).
	// Required: without it, a token the provider issued to any other
	// application would be accepted.
	Audience string
	// Algorithms lists the accepted "alg" values, among RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA; each key
	// of the provider verifies only the algorithms that suit it (and the
	// one its "alg" names, if any). "none" and HS256/384/512 are refused.
	// Defaults to RS256, the algorithm every OpenID provider supports.
	Algorithms []string
	// Leeway is the clock skew tolerated when checking "exp", "nbf" and
	// "iat". Defaults to DefaultLeeway (1m); at most MaxLeeway (5m);
	// negative is an error.
	Leeway time.Duration
	// Claims names the claims that become the identity's user ID, e-mail
	// address and scopes. The zero value is "sub", "email", and the scopes
	// of "scope" and "scp".
	Claims jwtauth.ClaimNames
	// Client makes the discovery and key set requests. Defaults to a new
	// http.Client (never http.DefaultClient, which is shared mutable state).
	// New uses a copy of it whose CheckRedirect refuses, with ErrRedirect,
	// a redirect that leaves https or goes to an origin other than the
	// issuer's or the requested URL's, then applies Client.CheckRedirect
	// (without one, http.Client's limit of ten redirects).
	Client *http.Client
	// Timeout bounds each discovery or key set request. Defaults to
	// DefaultTimeout (10s).
	Timeout time.Duration
	// RefreshInterval is the shortest time between two fetches of the key
	// set. A token signed with a key the cached set lacks makes the
	// Verifier fetch the set again only once this much time has passed
	// since the last fetch, so tokens naming made-up keys cannot make it
	// hammer the provider; until then such a token is rejected. Defaults to
	// DefaultRefreshInterval (30s); at most KeyMaxAge.
	RefreshInterval time.Duration
	// KeyMaxAge is how long a fetched key set is trusted. The first token
	// after it makes the Verifier fetch the set again, so a key the provider
	// removed stops verifying within KeyMaxAge; while the set cannot be
	// fetched, every token fails with auth.ErrUnavailable (the Verifier
	// fails closed). Defaults to DefaultKeyMaxAge (1h).
	KeyMaxAge time.Duration
	// MaxResponseBytes bounds a discovery or key set response. Defaults to
	// DefaultMaxResponseBytes (1 MiB).
	MaxResponseBytes int64
	// Logger receives key set fetches and their failures, never a token.
	// Defaults to slog.Default() at the time New is called.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Audience == "":
		return o, fmt.Errorf("%w: Audience is required", ErrInvalidOptions)
	case o.Leeway < 0 || o.Leeway > MaxLeeway:
		return o, fmt.Errorf("%w: Leeway %v is outside [0, %v]", ErrInvalidOptions, o.Leeway, MaxLeeway)
	case o.Timeout < 0, o.RefreshInterval < 0, o.KeyMaxAge < 0:
		return o, fmt.Errorf("%w: negative Timeout, RefreshInterval or KeyMaxAge", ErrInvalidOptions)
	case o.MaxResponseBytes < 0:
		return o, fmt.Errorf("%w: negative MaxResponseBytes", ErrInvalidOptions)
	}
	if o.Algorithms == nil {
		o.Algorithms = []string{"RS256"}
	}
	if len(o.Algorithms) == 0 {
		return o, fmt.Errorf("%w: empty Algorithms", ErrInvalidOptions)
	}
	for _, alg := range o.Algorithms {
		if !slices.Contains(supportedAlgorithms(), alg) {
			// The name is configuration, not a secret; it says which entry is wrong.
			return o, fmt.Errorf("%w: algorithm %q is not accepted from a key set", ErrInvalidOptions, alg)
		}
	}
	o.Algorithms = slices.Clone(o.Algorithms)
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.KeyMaxAge == 0 {
		o.KeyMaxAge = DefaultKeyMaxAge
	}
	if o.RefreshInterval > o.KeyMaxAge {
		return o, fmt.Errorf("%w: RefreshInterval %v is longer than KeyMaxAge %v", ErrInvalidOptions, o.RefreshInterval, o.KeyMaxAge)
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
