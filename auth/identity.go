package auth

import (
	"context"
	"slices"
	"time"
)

// Identity is who a token belongs to. It is a plain value: copies are
// independent once Scopes is cloned, and Unified hands every caller its own
// copy of Scopes. The zero value is no one.
type Identity struct {
	// UserID identifies the user; it is never empty in an Identity that
	// Unified returns.
	UserID string
	Email  string
	Scopes []string
	// ExpiresAt is when the token stops being valid. Zero: the cache TTL
	// alone bounds how long the identity is reused.
	ExpiresAt time.Time
}

// HasScope reports whether the identity holds scope.
func (id Identity) HasScope(scope string) bool { return slices.Contains(id.Scopes, scope) }

// String returns the user ID only, so that logging an identity prints
// neither its e-mail address nor its scopes.
func (id Identity) String() string {
	return "auth.Identity{UserID: " + id.UserID + "}"
}

func (id Identity) clone() Identity {
	id.Scopes = slices.Clone(id.Scopes)
	return id
}

// Authenticator checks a token and returns the identity it belongs to. It
// returns an error wrapping ErrInvalidToken or ErrExpired when the token is
// rejected; any other error means the token could not be checked and is
// treated as ErrUnavailable by Unified. Implementations must be safe for
// concurrent use and should honour ctx.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Identity, error)
}

// Func adapts a function to the Authenticator interface. It is as safe for
// concurrent use as the function it adapts, which Unified calls from many
// goroutines. New rejects a nil Func.
type Func func(ctx context.Context, token string) (Identity, error)

// Authenticate calls f.
func (f Func) Authenticate(ctx context.Context, token string) (Identity, error) {
	return f(ctx, token)
}

var _ Authenticator = Func(nil)
