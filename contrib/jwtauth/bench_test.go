package jwtauth_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

// BenchmarkAuthenticate shows what auth.Unified's cache saves per request:
// a verification costs from microseconds (HMAC) to much more (RSA, ECDSA).
func BenchmarkAuthenticate(b *testing.B) {
	claims := jwt.MapClaims{"sub": "alice", "email": "a@example.com", "scope": "chat:read chat:write", "exp": time.Now().Add(time.Hour).Unix()}
	cases := []struct {
		name   string
		method jwt.SigningMethod
		sign   any
		verify func() (*jwtauth.Verifier, error)
	}{
		{"HS256", jwt.SigningMethodHS256, secret32, func() (*jwtauth.Verifier, error) { return jwtauth.NewHMAC(secret32, jwtauth.Options{}) }},
		{"ES256", jwt.SigningMethodES256, p256(), func() (*jwtauth.Verifier, error) { return jwtauth.NewPublicKey(p256().Public(), jwtauth.Options{}) }},
		{"EdDSA", jwt.SigningMethodEdDSA, edKey(), func() (*jwtauth.Verifier, error) { return jwtauth.NewPublicKey(edKey().Public(), jwtauth.Options{}) }},
		{"RS256", jwt.SigningMethodRS256, rsaKey(), func() (*jwtauth.Verifier, error) { return jwtauth.NewPublicKey(rsaKey().Public(), jwtauth.Options{}) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v, err := c.verify()
			if err != nil {
				b.Fatal(err)
			}
			token := sign(b, c.method, c.sign, claims)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(b.Context(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
