package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/auth"
)

var _ auth.Authenticator = (*Verifier)(nil)

// Options configures a Verifier. The zero value accepts tokens signed with
// the key's default algorithm, with no issuer or audience check and no
// leeway.
type Options struct {
	// Algorithms lists the accepted "alg" header values; each must suit the
	// key (HS256/384/512 for an HMAC secret, RS*/PS* for RSA, the curve's
	// ES* for ECDSA, EdDSA for Ed25519). Defaults to the key's one default:
	// HS256, RS256, ES256/ES384/ES512 by curve, or EdDSA.
	Algorithms []string
	// Issuer is the required "iss" claim. Defaults to "": not checked.
	Issuer string
	// Audience must be one of the token's "aud" values. Defaults to "": not
	// checked.
	Audience string
	// Leeway is the clock skew tolerated when checking "exp", "nbf" and
	// "iat". Negative is an error. Defaults to 0.
	Leeway time.Duration
	// Claims says which claims become the identity's fields. The zero value
	// is the standard mapping.
	Claims ClaimNames
}

// Verifier checks JSON Web Tokens against one key and maps their claims to
// an auth.Identity. It is immutable and safe for concurrent use; the zero
// value is not usable, build one with NewHMAC or NewPublicKey.
type Verifier struct {
	parser *jwt.Parser
	key    any
	claims ClaimNames
}

// NewHMAC returns a Verifier for tokens signed with a shared secret. The
// Verifier keeps its own copy of secret. It returns an error wrapping
// ErrWeakKey if secret is shorter than the hash of an accepted algorithm
// (32 bytes for HS256), and ErrInvalidOptions for a non-HMAC algorithm, a
// negative leeway or an empty scope claim name.
func NewHMAC(secret []byte, opts Options) (*Verifier, error) {
	algs, err := pickAlgorithms(opts.Algorithms, []string{"HS256", "HS384", "HS512"})
	if err != nil {
		return nil, err
	}
	for _, alg := range algs {
		if need := hmacKeySize(alg); len(secret) < need {
			return nil, fmt.Errorf("%w: %s needs a secret of at least %d bytes, got %d", ErrWeakKey, alg, need, len(secret))
		}
	}
	return newVerifier(slices.Clone(secret), algs, opts)
}

// NewPublicKey returns a Verifier for tokens signed with the private half of
// key, which is an *rsa.PublicKey (at least 2048 bits), an *ecdsa.PublicKey
// on P-256, P-384 or P-521, or an ed25519.PublicKey. It returns an error
// wrapping ErrWeakKey for a short RSA key, and ErrInvalidOptions for another
// key type, an algorithm that does not suit the key, a negative leeway or an
// empty scope claim name.
func NewPublicKey(key crypto.PublicKey, opts Options) (*Verifier, error) {
	allowed, err := KeyAlgorithms(key)
	if err != nil {
		return nil, err
	}
	algs, err := pickAlgorithms(opts.Algorithms, allowed)
	if err != nil {
		return nil, err
	}
	return newVerifier(key, algs, opts)
}

func newVerifier(key any, algs []string, opts Options) (*Verifier, error) {
	if opts.Leeway < 0 {
		return nil, fmt.Errorf("%w: Leeway %v is negative", ErrInvalidOptions, opts.Leeway)
	}
	names, err := opts.Claims.withDefaults()
	if err != nil {
		return nil, err
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.Leeway),
	}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	return &Verifier{parser: jwt.NewParser(popts...), key: key, claims: names}, nil
}

// Authenticate verifies token and returns the identity it carries. An
// expired token fails with an error wrapping auth.ErrExpired, any other
// rejection with one wrapping auth.ErrInvalidToken and, where the check
// that failed says why, the kind (auth.ErrMalformed, auth.ErrBadSignature,
// auth.ErrWrongAudience, auth.ErrNotYetValid). Verification is local
// and does no I/O, so ctx is not consulted.
func (v *Verifier) Authenticate(_ context.Context, token string) (auth.Identity, error) {
	c := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return v.key, nil }); err != nil {
		return auth.Identity{}, classify(err)
	}
	id, err := v.claims.identity(c)
	if err != nil {
		return auth.Identity{}, err
	}
	if exp, err := c.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	return id, nil
}

// classify maps a jwt error to the auth sentinel and a fixed description of
// the failed check. jwt's own text is dropped: it can quote decoded header or
// claim content.
func classify(err error) error {
	checks := []struct {
		target error
		kind   error
		what   string
	}{
		{jwt.ErrTokenMalformed, auth.ErrMalformed, "malformed token"},
		{jwt.ErrTokenSignatureInvalid, auth.ErrBadSignature, "signature or algorithm rejected"},
		{jwt.ErrTokenUnverifiable, auth.ErrBadSignature, "token cannot be verified"},
		{jwt.ErrTokenRequiredClaimMissing, auth.ErrMalformed, "required claim missing"},
		{jwt.ErrTokenInvalidIssuer, auth.ErrWrongAudience, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, auth.ErrWrongAudience, "wrong audience"},
		{jwt.ErrTokenNotValidYet, auth.ErrNotYetValid, "token not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, auth.ErrNotYetValid, "token issued in the future"},
	}
	for _, c := range checks {
		if errors.Is(err, c.target) {
			return fmt.Errorf("%w: %s", c.kind, c.what)
		}
	}
	if errors.Is(err, jwt.ErrTokenExpired) {
		return fmt.Errorf("%w: exp has passed", auth.ErrExpired)
	}
	return fmt.Errorf("%w: claims rejected", auth.ErrInvalidToken)
}
