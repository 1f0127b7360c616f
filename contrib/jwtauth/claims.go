package jwtauth

import (
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/auth"
)

// ClaimNames says which claims of a verified token become the fields of its
// auth.Identity. The zero value is the standard mapping: "sub", "email", and
// the scopes of "scope" and "scp".
type ClaimNames struct {
	// UserID names the string claim that becomes Identity.UserID; a token
	// without it is rejected. Defaults to "sub".
	UserID string
	// Email names the string claim that becomes Identity.Email, when the
	// token has it. Defaults to "email".
	Email string
	// Scopes names the claims whose values become Identity.Scopes, in this
	// order; each is a space-separated string (RFC 8693 "scope") or an array
	// of strings ("scp" as several identity providers issue it). Defaults to
	// "scope" and "scp".
	Scopes []string
}

func (n ClaimNames) withDefaults() (ClaimNames, error) {
	if n.UserID == "" {
		n.UserID = "sub"
	}
	if n.Email == "" {
		n.Email = "email"
	}
	if n.Scopes == nil {
		n.Scopes = []string{"scope", "scp"}
	}
	for _, s := range n.Scopes {
		if s == "" {
			return n, fmt.Errorf("%w: an empty name in Claims.Scopes", ErrInvalidOptions)
		}
	}
	n.Scopes = append([]string(nil), n.Scopes...)
	return n, nil
}

// identity maps the claims of a verified token to an identity. Its errors
// name the claim's role, never its value.
func (n ClaimNames) identity(c jwt.MapClaims) (auth.Identity, error) {
	var id auth.Identity
	sub, ok := c[n.UserID].(string)
	if !ok || sub == "" || !validSubject(sub) {
		return auth.Identity{}, fmt.Errorf("%w: missing or malformed user ID claim", auth.ErrMalformed)
	}
	id.UserID = sub
	if v, ok := c[n.Email]; ok {
		if id.Email, ok = v.(string); !ok {
			return auth.Identity{}, fmt.Errorf("%w: email claim of the wrong type", auth.ErrMalformed)
		}
	}
	for _, name := range n.Scopes {
		switch v := c[name].(type) {
		case nil:
		case string:
			id.Scopes = append(id.Scopes, strings.Fields(v)...)
		case []any:
			for _, s := range v {
				str, ok := s.(string)
				if !ok {
					return auth.Identity{}, fmt.Errorf("%w: scope claim of the wrong type", auth.ErrMalformed)
				}
				id.Scopes = append(id.Scopes, str)
			}
		default:
			return auth.Identity{}, fmt.Errorf("%w: scope claim of the wrong type", auth.ErrMalformed)
		}
	}
	return id, nil
}

// validSubject rejects subjects no user id should have: control characters
// would let a token forge log lines or confuse user isolation downstream.
func validSubject(sub string) bool {
	return len(sub) <= 256 && !strings.ContainsFunc(sub, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
