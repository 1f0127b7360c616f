package jwtauth_test

import (
	"testing"

	"github.com/ssotkit/ssot/contrib/jwtauth"
	"github.com/ssotkit/ssot/internal/testkit/leakcheck"
)

// TestNoKeyInAnyRendering renders every type of this package that holds a
// key with every fmt verb and both log/slog handlers: the key never shows.
func TestNoKeyInAnyRendering(t *testing.T) {
	t.Parallel()
	const secret = "planted-jwt-secret-0123456789abcdef"
	verifier, err := jwtauth.NewHMAC([]byte(secret), jwtauth.Options{Issuer: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jwtauth.NewSigner([]byte(secret), jwtauth.SignerOptions{Issuer: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	public, err := jwtauth.NewPublicKey(p256().Public(), jwtauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{verifier, signer, public, jwtauth.Options{Issuer: "x"}, jwtauth.SignerOptions{Issuer: "x"}} {
		for how, out := range leakcheck.Renderings(v) {
			if leakcheck.Panicked(out) {
				t.Errorf("%T, %s panicked: %s", v, how, out)
			}
			if form, ok := leakcheck.Shows(out, secret); ok {
				t.Errorf("%T, %s shows the key (%s):\n%s", v, how, form, out)
			}
		}
	}
	for _, v := range []any{verifier, signer} {
		if !leakcheck.Holds(v, secret) {
			t.Errorf("%T does not hold the key: the test proves nothing", v)
		}
	}
}
