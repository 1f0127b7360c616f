package jwtauth

import (
	"encoding/json"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// claims are the claims a token is decoded into.
type claims struct {
	jwt.RegisteredClaims
	Email string `json:"email,omitempty"`
	Scope scopes `json:"scope,omitempty"`
	Scp   scopes `json:"scp,omitempty"`
}

// scopes accepts a space-separated string (RFC 8693 "scope") or an array of
// strings ("scp" as several identity providers issue it).
type scopes []string

// UnmarshalJSON decodes either form.
func (s *scopes) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}
