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
//  1. A bounded LRU cache, keyed by a keyed SHA-256 of the token (the token is
//     never stored), answers repeated tokens. Identities are reused for
//     CacheTTL, capped at their ExpiresAt; rejected tokens for NegativeTTL;
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
// for tokens signed with a key you hold.
//
// # Errors
//
// Every error wraps one of ErrNoToken, ErrInvalidToken, ErrExpired or
// ErrUnavailable (or is a context error). [HTTPStatus] and [CloseCode] map
// them: a bad token is 401 / 1008 (policy violation), an unavailable
// authentication service is 503 / 1013 (try again later), and 1011 is left
// for genuine internal errors. No error, log record or Stats value contains a
// token or the backend's error text.
package auth
