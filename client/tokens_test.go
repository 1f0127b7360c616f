package client_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ssotkit/ssot/auth"
)

// tokens issues and checks short-lived JSON Web Tokens signed with HS256,
// with "exp" in milliseconds' precision (a NumericDate may have a
// fraction), so that ssot.js reads their expiry as it reads any JWT's. It
// is safe for concurrent use.
type tokens struct {
	key []byte
}

// issue returns a token for user that expires after ttl.
func (k tokens) issue(user string, ttl time.Duration) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	exp := float64(time.Now().Add(ttl).UnixMilli()) / 1000
	claims, _ := json.Marshal(map[string]any{"sub": user, "exp": exp})
	signed := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	return signed + "." + base64.RawURLEncoding.EncodeToString(k.sign(signed))
}

func (k tokens) sign(s string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// Authenticate implements auth.Authenticator.
func (k tokens) Authenticate(_ context.Context, token string) (auth.Identity, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || strings.Count(token, ".") != 2 {
		return auth.Identity{}, auth.ErrMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || !hmac.Equal(sig, k.sign(token[:i])) {
		return auth.Identity{}, auth.ErrBadSignature
	}
	body, err := base64.RawURLEncoding.DecodeString(token[strings.IndexByte(token, '.')+1 : i])
	if err != nil {
		return auth.Identity{}, auth.ErrMalformed
	}
	var c struct {
		Sub string  `json:"sub"`
		Exp float64 `json:"exp"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Sub == "" {
		return auth.Identity{}, fmt.Errorf("%w: claims", auth.ErrMalformed)
	}
	exp := time.UnixMilli(int64(c.Exp * 1000))
	if !time.Now().Before(exp) {
		return auth.Identity{}, auth.ErrExpired
	}
	return auth.Identity{UserID: c.Sub, ExpiresAt: exp}, nil
}
