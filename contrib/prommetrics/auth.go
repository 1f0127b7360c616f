package prommetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssotkit/ssot/auth"
)

// AuthSource is what NewAuthCollector reads: an *auth.Unified.
type AuthSource interface{ Stats() auth.Stats }

// NewAuthCollector returns a collector of a Unified's Stats, as the
// ssot_auth_* metrics. ssot_auth_breaker_state is the circuit breaker's
// state as a number: 0 closed (backend calls flow), 1 open (they are
// refused), 2 half-open (one probe is under way), the values of
// auth.BreakerState. It returns ErrInvalidSource for a nil source. The
// collector is safe for concurrent use.
func NewAuthCollector(u AuthSource) (prometheus.Collector, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil authenticator", ErrInvalidSource)
	}
	type S = auth.Stats
	return &collector[S]{stats: u.Stats, metrics: []metric[S]{
		counter("ssot_auth_cache_hits_total", "Authentications answered from the cache.", nil, func(s S) uint64 { return s.Hits }),
		counter("ssot_auth_cache_misses_total", "Authentications not in the cache.", nil, func(s S) uint64 { return s.Misses }),
		counter("ssot_auth_shared_total", "Cache misses that joined another caller's backend call for the same token.", nil, func(s S) uint64 { return s.Shared }),
		counter("ssot_auth_backend_calls_total", "Calls made to the authentication backend.", nil, func(s S) uint64 { return s.BackendCalls }),
		counter("ssot_auth_breaker_opens_total", "Times the circuit breaker opened.", nil, func(s S) uint64 { return s.Opens }),
		counter("ssot_auth_breaker_refused_total", "Cache misses refused because the circuit breaker was open.", nil, func(s S) uint64 { return s.Refused }),
		gauge("ssot_auth_breaker_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open.", nil, func(s S) float64 { return float64(s.Breaker) }),
		gauge("ssot_auth_cache_entries", "Tokens currently in the cache.", nil, func(s S) float64 { return float64(s.Entries) }),
		failure("no_token", func(s S) uint64 { return s.Failures.NoToken }),
		failure("expired", func(s S) uint64 { return s.Failures.Expired }),
		failure("malformed", func(s S) uint64 { return s.Failures.Malformed }),
		failure("bad_signature", func(s S) uint64 { return s.Failures.BadSignature }),
		failure("wrong_audience", func(s S) uint64 { return s.Failures.WrongAudience }),
		failure("not_yet_valid", func(s S) uint64 { return s.Failures.NotYetValid }),
		failure("revoked", func(s S) uint64 { return s.Failures.Revoked }),
		failure("invalid", func(s S) uint64 { return s.Failures.Invalid }),
		failure("unavailable", func(s S) uint64 { return s.Failures.Unavailable }),
	}}, nil
}

// failure is ssot_auth_failures_total for one kind (auth.Kind).
func failure(kind string, value func(auth.Stats) uint64) metric[auth.Stats] {
	return counter("ssot_auth_failures_total", "Authentications refused, by kind: why the token was refused (auth.Kind), never anything of the token.", prometheus.Labels{"kind": kind}, value)
}
