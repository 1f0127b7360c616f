package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/ssotkit/ssot/env"
)

// static is a fixed token table for tests and local development.
type static struct {
	ids map[[32]byte]staticEntry
}

type staticEntry struct {
	token string
	id    Identity
}

// NewStatic returns an Authenticator that knows exactly the given tokens, for
// tests and local development. It refuses env.Production with ErrProduction:
// there is no other way to bypass a real backend. A Name outside the four
// environments is refused the same way, as env treats an unknown environment
// as the most guarded one. An empty token or an identity without a UserID is
// ErrInvalidOptions. Tokens are compared in constant time; the map is copied.
func NewStatic(tokens map[string]Identity, environment env.Name) (Authenticator, error) {
	switch {
	case environment == env.Production:
		return nil, ErrProduction
	case environment > env.Production:
		return nil, fmt.Errorf("%w: unknown environment %d", ErrProduction, uint8(environment))
	}
	s := &static{ids: make(map[[32]byte]staticEntry, len(tokens))}
	for tok, id := range tokens {
		if tok == "" || id.UserID == "" {
			return nil, fmt.Errorf("%w: static tokens need a non-empty token and UserID", ErrInvalidOptions)
		}
		s.ids[sha256.Sum256([]byte(tok))] = staticEntry{token: tok, id: id.clone()}
	}
	return s, nil
}

func (s *static) Authenticate(ctx context.Context, token string) (Identity, error) {
	if err := ctx.Err(); err != nil {
		return Identity{}, err
	}
	e, ok := s.ids[sha256.Sum256([]byte(token))]
	if !ok || subtle.ConstantTimeCompare([]byte(e.token), []byte(token)) != 1 {
		return Identity{}, ErrInvalidToken
	}
	return e.id.clone(), nil
}
