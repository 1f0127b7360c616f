// Package oidcauth verifies the JSON Web Tokens of an OpenID Connect
// provider (Auth0, Keycloak, Cognito, Google, Entra ID, ZITADEL, …) and
// implements auth.Authenticator of github.com/ssotkit/ssot/auth, so a
// service puts auth.Unified (cache, deduplication, fail-closed breaker) in
// front of its provider. It is a module of its own, so that the library
// keeps no dependencies:
//
//	go get github.com/ssotkit/ssot/contrib/oidcauth
//
//	v, err := oidcauth.New(ctx, "https://login.example.com", oidcauth.Options{Audience: "chat-api"})
//	if err != nil {
//		return err // provider unreachable, bad discovery document, bad options
//	}
//	authenticator, err := auth.New(v, auth.Options{})
//
// # Keys
//
// New reads the provider's discovery document and fetches its key set
// (JWKS). Keys are verified locally; the provider is asked again only when
// a token is signed with a key the cached set lacks, which is how providers
// rotate keys, and when the set is older than Options.KeyMaxAge, so that a
// key the provider removed stops verifying. Fetches are rate-limited
// (Options.RefreshInterval): tokens naming made-up keys are rejected without
// reaching the provider. Only asymmetric keys of Options.Algorithms verify:
// "none" and HMAC are never accepted, because a key set is public.
//
// A redirect of the discovery document or the key set is followed only
// while it stays on https (when the request was https) and on the origin of
// the issuer or of the URL requested; any other is refused with an error
// wrapping ErrRedirect, so that a key set served elsewhere, over plain http
// say, never verifies a token. This holds for a caller's Options.Client
// too: New uses a copy of it whose CheckRedirect makes this check first.
//
// # Claims
//
// A token must carry the issuer in "iss", Options.Audience among its "aud",
// an "exp" that has not passed, and no "nbf" or "iat" in the future, within
// Options.Leeway (bounded by MaxLeeway). By default "sub" becomes
// Identity.UserID, "email" Identity.Email, "scope" and "scp" Identity.Scopes,
// and "exp" Identity.ExpiresAt; Options.Claims names other claims.
//
// # Errors
//
// An expired token fails with an error wrapping auth.ErrExpired; any other
// rejected token with auth.ErrInvalidToken, which auth.Unified caches
// briefly and never counts toward its breaker; a token that could not be
// checked because the key set is older than Options.KeyMaxAge and could not
// be fetched with auth.ErrUnavailable, which opens the breaker, so that an
// unreachable provider fails closed. A token naming a key the cached set
// lacks, while that set is younger than Options.KeyMaxAge, is an invalid
// token even when the set cannot be fetched again, so that tokens naming
// made-up keys cannot open the breaker during an outage.
// Errors never quote a token or a claim value.
//
// # Why not go-oidc
//
// Signature and claim checks are those of contrib/jwtauth (on
// github.com/golang-jwt/jwt/v5) and keys are parsed by
// github.com/go-jose/go-jose/v4. github.com/coreos/go-oidc/v3, the
// usual choice, fits this library less well: its remote key set fetches in
// a goroutine nothing can stop or wait for, fetches again for every token
// naming an unknown key, with no rate limit, keeps a removed key until such
// a token comes, and its leeway is fixed (five minutes on "nbf", none on
// "exp").
package oidcauth
