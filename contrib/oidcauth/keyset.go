package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

// keySet is the provider's signing keys, fetched from its jwks_uri and kept
// until the next fetch: when a token names a key the set lacks (at most once
// per RefreshInterval) and when the set is older than KeyMaxAge.
//
// It starts no goroutine. A fetch runs in the goroutine of the first token
// that needs it, detached from that caller's cancellation and bounded by
// Options.Timeout, so that one caller giving up fails none of the tokens
// waiting for the same fetch. A keySet is safe for concurrent use.
type keySet struct {
	url     string
	fetch   *fetcher
	algs    []string        // Options.Algorithms
	verify  jwtauth.Options // Issuer, Audience, Leeway and Claims of every key
	refresh time.Duration
	maxAge  time.Duration
	logger  *slog.Logger

	mu        sync.Mutex
	keys      []key
	fetched   time.Time  // when keys were fetched; zero before the first fetch
	attempted time.Time  // when the last fetch started
	inflight  *fetchCall // the fetch under way, if any
}

// key is one usable key of the set, with the verifier pinned to the
// algorithms it may check.
type key struct {
	id       string
	algs     []string
	verifier *jwtauth.Verifier
}

type fetchCall struct {
	done chan struct{} // closed when err is set
	err  error
}

// verifiers returns the verifiers of the keys that may have signed a token
// with header values kid and alg, fetching the set first when it is stale or
// lacks kid and the refresh interval allows. A token naming no key is
// checked only when a single key of the set suits its algorithm.
//
// It returns an error wrapping auth.ErrBadSignature (an auth.ErrInvalidToken)
// when no key matches and the cached set is younger than KeyMaxAge, whether
// or not fetching the set again succeeded: a token naming a key the provider
// never published is an invalid token, not an outage, so tokens naming
// made-up keys cannot open the breaker of auth.Unified. It returns one
// wrapping auth.ErrUnavailable when the set is stale and could not be
// fetched.
func (k *keySet) verifiers(ctx context.Context, kid, alg string) ([]*jwtauth.Verifier, error) {
	k.mu.Lock()
	now := time.Now()
	fresh := now.Sub(k.fetched) < k.maxAge
	if fresh {
		if vs := k.match(kid, alg); len(vs) > 0 {
			k.mu.Unlock()
			return vs, nil
		}
	}
	c := k.inflight
	if c == nil {
		if now.Sub(k.attempted) < k.refresh {
			k.mu.Unlock()
			if !fresh {
				return nil, fmt.Errorf("%w: the provider's key set could not be fetched", auth.ErrUnavailable)
			}
			return nil, errUnknownKey
		}
		c = &fetchCall{done: make(chan struct{})}
		k.inflight, k.attempted = c, now
		k.mu.Unlock()
		c.err = k.refetch(context.WithoutCancel(ctx))
		k.mu.Lock()
		k.inflight = nil
		k.mu.Unlock()
		close(c.done)
	} else {
		k.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.err != nil {
		if fresh {
			return nil, errUnknownKey
		}
		return nil, c.err
	}
	k.mu.Lock()
	vs := k.match(kid, alg)
	k.mu.Unlock()
	if len(vs) == 0 {
		return nil, errUnknownKey
	}
	return vs, nil
}

// errUnknownKey is the error of a token naming a key the provider's key set
// lacks, as last fetched.
var errUnknownKey = fmt.Errorf("%w: signed with a key the provider's key set lacks", auth.ErrBadSignature)

// match returns the verifiers for kid and alg; k.mu must be held.
func (k *keySet) match(kid, alg string) []*jwtauth.Verifier {
	var vs []*jwtauth.Verifier
	for _, ky := range k.keys {
		if (kid == "" || ky.id == kid) && slices.Contains(ky.algs, alg) {
			vs = append(vs, ky.verifier)
		}
	}
	if kid == "" && len(vs) > 1 {
		return nil // ambiguous: a token must name its key when the set has several
	}
	return vs
}

// refetch replaces the set with the provider's current one, within the
// fetcher's timeout and until ctx ends. Keys that
// cannot verify any allowed algorithm are left out: symmetric ("oct") and
// private keys, keys for encryption, RSA keys under 2048 bits, curves and
// key types the verifier does not support.
func (k *keySet) refetch(ctx context.Context) error {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	err := k.fetch.getJSON(ctx, "key set", k.url, &set)
	if errors.Is(err, errMalformed) {
		err = fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	if err != nil {
		k.logger.Warn("oidcauth: fetching the provider's key set failed", "err", err)
		return err
	}
	var keys []key
	for _, raw := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.IsPublic() || (jwk.Use != "" && jwk.Use != "sig") {
			continue
		}
		suits, err := jwtauth.KeyAlgorithms(jwk.Key)
		if err != nil {
			continue
		}
		algs := slices.DeleteFunc(slices.Clone(k.algs), func(a string) bool {
			return !slices.Contains(suits, a) || (jwk.Algorithm != "" && jwk.Algorithm != a)
		})
		if len(algs) == 0 {
			continue
		}
		opts := k.verify
		opts.Algorithms = algs
		v, err := jwtauth.NewPublicKey(jwk.Key, opts)
		if err != nil {
			continue
		}
		keys = append(keys, key{id: jwk.KeyID, algs: algs, verifier: v})
	}
	if len(keys) == 0 {
		err := fmt.Errorf("%w: the provider's key set holds no key for the allowed algorithms", auth.ErrUnavailable)
		k.logger.Warn("oidcauth: the provider's key set is unusable", "err", err, "published", len(set.Keys))
		return err
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, time.Now()
	k.mu.Unlock()
	k.logger.Info("oidcauth: fetched the provider's key set", "usable", len(keys), "published", len(set.Keys))
	return nil
}
