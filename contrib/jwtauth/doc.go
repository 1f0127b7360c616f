// Package jwtauth verifies JSON Web Tokens with github.com/golang-jwt/jwt/v5
// and implements auth.Authenticator of github.com/ssotkit/ssot/auth, so a
// service can put auth.Unified (cache, deduplication, breaker) in front of it.
// It is a module of its own, so that the library keeps no dependencies:
//
//	go get github.com/ssotkit/ssot/contrib/jwtauth
//
//	v, err := jwtauth.NewHMAC(secret, jwtauth.Options{Issuer: "https://login.example.com", Audience: "chat"})
//	if err != nil {
//		return err // a key shorter than 32 bytes is ErrWeakKey
//	}
//	authenticator, err := auth.New(v, auth.Options{})
//
// # What a token must carry
//
// A token is accepted only if its "alg" is one of Options.Algorithms (by
// default the single algorithm of the key, so "none" and algorithm confusion
// are impossible), its signature verifies, it has an "exp" claim that has
// not passed, its "nbf" and "iat" (when present) are not in the future, it
// has a non-empty user ID claim ("sub" unless Options.Claims names
// another), and it matches Options.Issuer and Options.Audience
// when they are set. Options.Leeway tolerates clock skew.
//
// # Claims to Identity
//
// By default "sub" becomes Identity.UserID, "email" Identity.Email and "exp"
// Identity.ExpiresAt. Scopes come from "scope" (a space-separated string,
// RFC 8693) and "scp" (a string or an array of strings, as some identity
// providers issue). Options.Claims names other claims for the user ID, the
// e-mail address and the scopes.
//
// # Errors
//
// An expired token fails with an error wrapping auth.ErrExpired; every other
// rejection wraps auth.ErrInvalidToken, so auth.Unified caches it briefly and
// never counts it toward its breaker. Errors name the failed check, never the
// token or a claim value.
package jwtauth
