// Package auth is the one authentication path of a service: it turns a
// bearer token into an Identity through a single cached, deduplicated,
// fail-closed pipeline, whatever checks the token behind it.
//
// # The path
//
// [Extractor] finds the token: the Authorization header ("Bearer",
// case-insensitive), a WebSocket subprotocol entry (browsers cannot set
// headers on a WebSocket), or, only when allowed, the query string. Empty,
// oversized or malformed tokens stop there.
//
// [Unified] then authenticates it against a pluggable [Authenticator]:
//
//  1. A bounded LRU cache, keyed by a keyed hash of the token (the token is
//     never stored), answers repeated tokens. Identities are reused for
//     CacheTTL, capped at their ExpiresAt; rejected tokens for NegativeTTL,
//     in a budget of their own that never evicts an identity;
//     ErrUnavailable is never cached.
//  2. Concurrent callers with the same uncached token share one backend call.
//     It runs detached under Options.Timeout, so each caller still returns
//     when its own context ends and one caller's cancellation fails no one
//     else. A panicking backend is an error for every waiter, not a crash.
//  3. A circuit breaker opens after consecutive backend failures and then
//     fails closed: an uncached token gets ErrUnavailable, never an
//     identity, without a backend call, until one probe after the cooldown
//     succeeds. Only calls started since the last state change count, so a
//     slow call from before the breaker opened cannot close it.
//
// Backends: [NewIntrospection] (RFC 7662), [Func] for your own, and
// [NewStatic] for tests, which refuses to run in production. JSON Web Token
// backends live in their own modules: github.com/ssotkit/ssot/contrib/jwtauth
// for tokens signed with a key you hold, github.com/ssotkit/ssot/contrib/oidcauth
// for those of an OpenID Connect provider.
//
// # Cache keys
//
// A token's cache key is AES-128 under one random key of the GHASH of the
// token under another: GHASH is the polynomial hash of AES-GCM, computed as
// the tag AES-GCM gives the token as additional data (no plaintext, a fixed
// nonce), and AES encrypts that tag. With AES-NI and carry-less
// multiplication this is several times faster than SHA-256 over a token of
// a few hundred bytes, which would otherwise be most of a cache hit. The
// keys are drawn by New, one set per Unified, and never leave it.
//
// A shared cache key would be an identity confusion: a token colliding with
// a cached one would be served the other's identity. Two distinct tokens A
// and B share a key exactly when their GCM tags are equal, since AES is a
// permutation; the tags are GHASH_H(A) and GHASH_H(B) masked by the same
// constant, so that is exactly when GHASH_H(A) = GHASH_H(B). GHASH_H(X) is a
// polynomial in the secret H whose coefficients are the 16-byte blocks of X
// (the last one zero-padded) followed by a block holding X's length. For
// A ≠ B the difference of the two polynomials is not zero (tokens that
// differ only by trailing zero bytes differ in the length block) and has
// degree at most ℓ+1 for tokens of at most ℓ blocks, so it has at most ℓ+1
// roots in GF(2^128). H is uniformly random and secret, so a pair of tokens
// chosen without knowing it collides with probability at most
// (ℓ+1)/2^128: below 2^-118 for tokens up to the default
// Extractor.MaxLen (8 KiB, 512 blocks), and below 2^-105 for one new token
// against 10,000 cached ones together.
//
// An attacker cannot choose tokens that depend on H, because nothing a
// Unified reveals does: cache keys are never printed, logged or returned,
// and the outer AES makes each key a pseudorandom function of its token, so
// even a side channel that leaked bits of keys (the cache shard a key
// selects, say) would leak bits indistinguishable from random. (Without the
// outer layer, GHASH under a fixed nonce is linear in each block, and such
// leaked bits of enough chosen tokens would give H away.)
//
// Under GODEBUG=fips140=only the standard library refuses AES-GCM with a
// caller-chosen nonce; cache keys are then HMAC-SHA-256 truncated to 128
// bits, slower and a pseudorandom function as well.
//
// # Errors
//
// Every error wraps one of ErrNoToken, ErrInvalidToken, ErrExpired or
// ErrUnavailable (or is a context error). [HTTPStatus] and [CloseCode] map
// them: a bad token is 401 / 1008 (policy violation), an unavailable
// authentication service is 503 / 1013 (try again later), and 1011 is left
// for genuine internal errors. No error, log record or Stats value contains a
// token or the backend's error text. Options.OnFailure sees every refusal,
// with the caller's context, for a service's logs and counters.
package auth
