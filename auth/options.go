package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Defaults for Options and BreakerOptions.
const (
	DefaultTimeout           = 5 * time.Second
	DefaultCacheTTL          = time.Minute
	DefaultNegativeTTL       = 5 * time.Second
	DefaultCacheSize         = 10000
	DefaultNegativeCacheSize = 1000
	DefaultFailures          = 5
	DefaultCooldown          = 30 * time.Second
)

// Options configures a Unified. The zero value is valid: every field has a
// default. New copies it; changing it afterwards has no effect.
type Options struct {
	// Extract finds the token in a request for AuthenticateRequest. Its zero
	// value reads the Authorization header and the WebSocket subprotocol.
	Extract Extractor
	// Timeout bounds each backend call, independently of any caller's
	// context. Defaults to DefaultTimeout (5s).
	Timeout time.Duration
	// CacheTTL is how long an identity is reused, capped at its ExpiresAt.
	// Defaults to DefaultCacheTTL (1m); negative disables caching identities.
	// Entries are removed by a timer at their deadline, so a cache hit reads
	// no clock; an entry can outlive its deadline only by that timer's
	// scheduling delay, far below the clock-skew leeway token issuers allow.
	CacheTTL time.Duration
	// NegativeTTL is how long a rejected token (ErrInvalidToken, ErrExpired)
	// is remembered, sparing the backend repeated checks of the same bad
	// token. Defaults to DefaultNegativeTTL (5s); negative disables it.
	// ErrUnavailable is never cached.
	NegativeTTL time.Duration
	// CacheSize bounds the number of cached identities; the least recently
	// used go first. Defaults to DefaultCacheSize (10000).
	CacheSize int
	// NegativeCacheSize bounds the number of remembered rejected tokens,
	// apart from CacheSize: a rejected token evicts only another rejected
	// token, the least recently used, never an identity, so unauthenticated
	// traffic cannot empty the cache of identities (which keep users in
	// while the breaker is open). Defaults to DefaultNegativeCacheSize
	// (1000).
	NegativeCacheSize int
	// Breaker configures the circuit breaker in front of the backend.
	Breaker BreakerOptions
	// Logger receives breaker transitions and backend panics, never a token.
	// Defaults to slog.Default() at the time New is called.
	Logger *slog.Logger
	// OnFailure, if not nil, is called each time Authenticate or
	// AuthenticateRequest refuses a token, with the caller's context and the
	// error it is about to return: one wrapping ErrNoToken, ErrInvalidToken,
	// ErrExpired or ErrUnavailable, which never holds the token. It is not
	// called when the caller's own context ends first. It runs on the
	// caller's goroutine, concurrently with other calls, before the error is
	// returned, so it must be quick: a service logs or counts refusals
	// there, with the request ID its context carries. Defaults to nil.
	OnFailure func(ctx context.Context, err error)
}

// BreakerOptions configures the circuit breaker. The zero value is valid.
type BreakerOptions struct {
	// Failures is the number of consecutive ErrUnavailable-class failures
	// (backend errors, timeouts, panics) that open the breaker. Defaults to
	// DefaultFailures (5).
	Failures int
	// Cooldown is how long the breaker stays open before letting one probe
	// call through. Defaults to DefaultCooldown (30s).
	Cooldown time.Duration
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Timeout < 0:
		return o, fmt.Errorf("%w: negative Timeout", ErrInvalidOptions)
	case o.CacheSize < 0:
		return o, fmt.Errorf("%w: negative CacheSize", ErrInvalidOptions)
	case o.NegativeCacheSize < 0:
		return o, fmt.Errorf("%w: negative NegativeCacheSize", ErrInvalidOptions)
	case o.Extract.MaxLen < 0:
		return o, fmt.Errorf("%w: negative Extract.MaxLen", ErrInvalidOptions)
	case o.Breaker.Failures < 0:
		return o, fmt.Errorf("%w: negative Breaker.Failures", ErrInvalidOptions)
	case o.Breaker.Cooldown < 0:
		return o, fmt.Errorf("%w: negative Breaker.Cooldown", ErrInvalidOptions)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.NegativeTTL == 0 {
		o.NegativeTTL = DefaultNegativeTTL
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.NegativeCacheSize == 0 {
		o.NegativeCacheSize = DefaultNegativeCacheSize
	}
	if o.Extract.MaxLen == 0 {
		o.Extract.MaxLen = DefaultMaxTokenLen
	}
	if o.Breaker.Failures == 0 {
		o.Breaker.Failures = DefaultFailures
	}
	if o.Breaker.Cooldown == 0 {
		o.Breaker.Cooldown = DefaultCooldown
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
