package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
)

// MinRSABits is the smallest RSA modulus NewPublicKey accepts.
const MinRSABits = 2048

// hmacKeySize returns the minimum secret length for an HMAC algorithm: the
// hash output size (RFC 7518 section 3.2), or 0 if alg is not HMAC.
func hmacKeySize(alg string) int {
	switch alg {
	case "HS256":
		return 32
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 0
}

// KeyAlgorithms returns the "alg" values that can verify with key, the first
// being NewPublicKey's default for it. It returns an error wrapping
// ErrWeakKey or ErrInvalidOptions for a key NewPublicKey refuses. A caller
// holding a key set picks a key's Options.Algorithms from these.
func KeyAlgorithms(key crypto.PublicKey) ([]string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidOptions)
		}
		if k.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits, need at least %d", ErrWeakKey, k.N.BitLen(), MinRSABits)
		}
		return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, fmt.Errorf("%w: nil ECDSA key", ErrInvalidOptions)
		}
		// Each ECDSA algorithm is bound to one curve (RFC 7518 section 3.4).
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		case elliptic.P521():
			return []string{"ES512"}, nil
		}
		return nil, fmt.Errorf("%w: ECDSA curve %s is not supported", ErrInvalidOptions, k.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key of %d bytes", ErrInvalidOptions, len(k))
		}
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("%w: key type %T is not supported (want *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey)", ErrInvalidOptions, key)
}

// pickAlgorithms checks the requested algorithms against those the key
// allows; none requested means the key's default.
func pickAlgorithms(requested, allowed []string) ([]string, error) {
	if len(requested) == 0 {
		return allowed[:1], nil
	}
	for _, alg := range requested {
		if !slices.Contains(allowed, alg) {
			return nil, fmt.Errorf("%w: algorithm %q does not suit the key (allowed: %v)", ErrInvalidOptions, alg, allowed)
		}
	}
	return slices.Clone(requested), nil
}

// ParsePublicKey parses a PEM-encoded public key: a "PUBLIC KEY" block
// (PKIX: RSA, ECDSA or Ed25519) or an "RSA PUBLIC KEY" block (PKCS #1). It
// returns an error wrapping ErrInvalidKey for anything else, including a
// private key, which does not belong in a verifier's configuration.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidKey)
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: PEM block of type %q, want PUBLIC KEY", ErrInvalidKey, block.Type)
}
