package jwtauth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/auth"
)

// SignerOptions configures a Signer. The zero value issues tokens with no
// issuer and no audience.
type SignerOptions struct {
	// Issuer is written to the "iss" claim. Defaults to "": omitted.
	Issuer string
	// Audience is written to the "aud" claim. Defaults to "": omitted.
	Audience string
}

// Signer mints HS256 tokens that a Verifier built by NewHMAC with the same
// secret and matching options accepts. It exists for development logins and
// tests; a production service gets its tokens from an identity provider. It
// is immutable and safe for concurrent use; the zero value is not usable.
type Signer struct {
	secret []byte
	opts   SignerOptions
}

// NewSigner returns a Signer for secret, of which it keeps a copy. It
// returns an error wrapping ErrWeakKey if secret is shorter than 32 bytes.
func NewSigner(secret []byte, opts SignerOptions) (*Signer, error) {
	if len(secret) < hmacKeySize("HS256") {
		return nil, fmt.Errorf("%w: HS256 needs a secret of at least 32 bytes, got %d", ErrWeakKey, len(secret))
	}
	return &Signer{secret: slices.Clone(secret), opts: opts}, nil
}

// Sign returns a token for id that expires ttl after now. id.ExpiresAt is
// ignored; "sub", "email" and "scope" carry UserID, Email and Scopes. It
// returns an error wrapping ErrInvalidOptions for a non-positive ttl or an
// empty UserID.
func (s *Signer) Sign(id auth.Identity, now time.Time, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("%w: ttl %v is not positive", ErrInvalidOptions, ttl)
	}
	if id.UserID == "" {
		return "", fmt.Errorf("%w: empty user id", ErrInvalidOptions)
	}
	c := struct {
		jwt.RegisteredClaims
		Email string `json:"email,omitempty"`
		Scope string `json:"scope,omitempty"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   id.UserID,
			Issuer:    s.opts.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Email: id.Email,
		Scope: strings.Join(id.Scopes, " "),
	}
	if s.opts.Audience != "" {
		c.Audience = jwt.ClaimStrings{s.opts.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
}
