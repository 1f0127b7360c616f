package jwtauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

func jwtauthTestKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func pemOf(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestNewHMACValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		opts    jwtauth.Options
		wantErr error
	}{
		{"32 bytes for HS256", []byte(strings.Repeat("k", 32)), jwtauth.Options{}, nil},
		{"31 bytes", []byte(strings.Repeat("k", 31)), jwtauth.Options{}, jwtauth.ErrWeakKey},
		{"empty", nil, jwtauth.Options{}, jwtauth.ErrWeakKey},
		{"HS512 needs 64 bytes", []byte(strings.Repeat("k", 48)), jwtauth.Options{Algorithms: []string{"HS256", "HS512"}}, jwtauth.ErrWeakKey},
		{"HS512 with 64 bytes", []byte(strings.Repeat("k", 64)), jwtauth.Options{Algorithms: []string{"HS512"}}, nil},
		{"RSA algorithm for a secret", []byte(strings.Repeat("k", 32)), jwtauth.Options{Algorithms: []string{"RS256"}}, jwtauth.ErrInvalidOptions},
		{"none", []byte(strings.Repeat("k", 32)), jwtauth.Options{Algorithms: []string{"none"}}, jwtauth.ErrInvalidOptions},
		{"negative leeway", []byte(strings.Repeat("k", 32)), jwtauth.Options{Leeway: -1}, jwtauth.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := jwtauth.NewHMAC(tt.secret, tt.opts)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("NewHMAC() = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), string(tt.secret)) && len(tt.secret) > 0 {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestNewPublicKeyValidation(t *testing.T) {
	t.Parallel()
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     any
		opts    jwtauth.Options
		wantErr error
	}{
		{"RSA 2048", rsaKey().Public(), jwtauth.Options{}, nil},
		{"RSA 1024", weakRSA.Public(), jwtauth.Options{}, jwtauth.ErrWeakKey},
		{"RSA private key", rsaKey(), jwtauth.Options{}, jwtauth.ErrInvalidOptions},
		{"nil RSA key", (*rsa.PublicKey)(nil), jwtauth.Options{}, jwtauth.ErrInvalidOptions},
		{"secret bytes", []byte(strings.Repeat("k", 32)), jwtauth.Options{}, jwtauth.ErrInvalidOptions},
		{"nil", nil, jwtauth.Options{}, jwtauth.ErrInvalidOptions},
		{"ECDSA P-224", p224.Public(), jwtauth.Options{}, jwtauth.ErrInvalidOptions},
		{"ES384 on a P-256 key", p256().Public(), jwtauth.Options{Algorithms: []string{"ES384"}}, jwtauth.ErrInvalidOptions},
		{"HS256 on an RSA key", rsaKey().Public(), jwtauth.Options{Algorithms: []string{"HS256"}}, jwtauth.ErrInvalidOptions},
		{"Ed25519", edKey().Public(), jwtauth.Options{}, nil},
		{"RS256 on an Ed25519 key", edKey().Public(), jwtauth.Options{Algorithms: []string{"RS256"}}, jwtauth.ErrInvalidOptions},
		{"negative leeway", p256().Public(), jwtauth.Options{Leeway: -1}, jwtauth.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := jwtauth.NewPublicKey(tt.key, tt.opts)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("NewPublicKey() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestKeyAlgorithms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  crypto.PublicKey
		want []string
	}{
		{"RSA", rsaKey().Public(), []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}},
		{"P-384", p384().Public(), []string{"ES384"}},
		{"Ed25519", edKey().Public(), []string{"EdDSA"}},
		{"secret bytes", []byte(strings.Repeat("k", 32)), nil},
	}
	for _, tt := range tests {
		got, err := jwtauth.KeyAlgorithms(tt.key)
		if diff := cmp.Diff(tt.want, got); diff != "" || (tt.want == nil) != errors.Is(err, jwtauth.ErrInvalidOptions) {
			t.Errorf("%s: KeyAlgorithms() = %v, %v; diff (-want +got):\n%s", tt.name, got, err, diff)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey().PublicKey)}))
	privDER, err := x509.MarshalPKCS8PrivateKey(p256())
	if err != nil {
		t.Fatal(err)
	}
	private := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	tests := []struct {
		name string
		pem  string
		want any // the public key expected, nil for an error
	}{
		{"PKIX RSA", pemOf(t, rsaKey().Public()), rsaKey().Public()},
		{"PKCS1 RSA", pkcs1, rsaKey().Public()},
		{"PKIX ECDSA", pemOf(t, p256().Public()), p256().Public()},
		{"PKIX Ed25519", pemOf(t, edKey().Public()), edKey().Public()},
		{"private key refused", private, nil},
		{"not PEM", "hello", nil},
		{"corrupt body", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := jwtauth.ParsePublicKey([]byte(tt.pem))
			if tt.want == nil {
				if !errors.Is(err, jwtauth.ErrInvalidKey) {
					t.Fatalf("ParsePublicKey() = %v, want ErrInvalidKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			if !tt.want.(equaler).Equal(got) {
				t.Errorf("ParsePublicKey() returned a different key")
			}
			if _, err := jwtauth.NewPublicKey(got, jwtauth.Options{}); err != nil {
				t.Errorf("NewPublicKey(parsed key) = %v", err)
			}
		})
	}
}
