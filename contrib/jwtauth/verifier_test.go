package jwtauth_test

import (
	"crypto"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

// claimsAt returns valid claims for a token issued at now.
func claimsAt(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":   "alice",
		"email": "alice@example.com",
		"scope": "chat:read chat:write",
		"iss":   "https://login.test",
		"aud":   "chat",
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
}

func TestVerifierHMAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(c jwt.MapClaims, now time.Time)
		method  jwt.SigningMethod // defaults to HS256
		key     any               // defaults to secret32
		want    auth.Identity     // ExpiresAt filled in from exp
		wantErr error
	}{
		{name: "valid", want: auth.Identity{UserID: "alice", Email: "alice@example.com", Scopes: []string{"chat:read", "chat:write"}}},
		{name: "audience array containing ours", edit: func(c jwt.MapClaims, _ time.Time) { c["aud"] = []string{"other", "chat"} },
			want: auth.Identity{UserID: "alice", Email: "alice@example.com", Scopes: []string{"chat:read", "chat:write"}}},
		{name: "scp array", edit: func(c jwt.MapClaims, _ time.Time) { delete(c, "scope"); c["scp"] = []string{"a", "b"} },
			want: auth.Identity{UserID: "alice", Email: "alice@example.com", Scopes: []string{"a", "b"}}},
		{name: "no scopes, no email", edit: func(c jwt.MapClaims, _ time.Time) { delete(c, "scope"); delete(c, "email") },
			want: auth.Identity{UserID: "alice"}},
		{name: "alg none", method: jwt.SigningMethodNone, key: jwt.UnsafeAllowNoneSignatureType, wantErr: auth.ErrBadSignature},
		{name: "algorithm not pinned", method: jwt.SigningMethodHS512, key: []byte(strings.Repeat("k", 64)), wantErr: auth.ErrBadSignature},
		{name: "wrong secret", key: []byte(strings.Repeat("x", 32)), wantErr: auth.ErrBadSignature},
		{name: "missing exp", edit: func(c jwt.MapClaims, _ time.Time) { delete(c, "exp") }, wantErr: auth.ErrMalformed},
		{name: "expired", edit: func(c jwt.MapClaims, now time.Time) { c["exp"] = now.Add(-time.Second).Unix() }, wantErr: auth.ErrExpired},
		{name: "not valid yet", edit: func(c jwt.MapClaims, now time.Time) { c["nbf"] = now.Add(time.Minute).Unix() }, wantErr: auth.ErrNotYetValid},
		{name: "issued in the future", edit: func(c jwt.MapClaims, now time.Time) { c["iat"] = now.Add(time.Minute).Unix() }, wantErr: auth.ErrNotYetValid},
		{name: "wrong issuer", edit: func(c jwt.MapClaims, _ time.Time) { c["iss"] = "https://evil.test" }, wantErr: auth.ErrWrongAudience},
		{name: "missing issuer", edit: func(c jwt.MapClaims, _ time.Time) { delete(c, "iss") }, wantErr: auth.ErrMalformed},
		{name: "wrong audience", edit: func(c jwt.MapClaims, _ time.Time) { c["aud"] = "billing" }, wantErr: auth.ErrWrongAudience},
		{name: "missing sub", edit: func(c jwt.MapClaims, _ time.Time) { delete(c, "sub") }, wantErr: auth.ErrMalformed},
		{name: "sub with control characters", edit: func(c jwt.MapClaims, _ time.Time) { c["sub"] = "alice\nadmin" }, wantErr: auth.ErrMalformed},
		{name: "scope of the wrong type", edit: func(c jwt.MapClaims, _ time.Time) { c["scope"] = 42 }, wantErr: auth.ErrMalformed},
		{name: "expired and wrong issuer is invalid, not expired", edit: func(c jwt.MapClaims, now time.Time) {
			c["exp"] = now.Add(-time.Second).Unix()
			c["iss"] = "https://evil.test"
		}, wantErr: auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Issuer: "https://login.test", Audience: "chat"})
				if err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				c := claimsAt(now)
				if tt.edit != nil {
					tt.edit(c, now)
				}
				method, key := tt.method, tt.key
				if method == nil {
					method = jwt.SigningMethodHS256
				}
				if key == nil {
					key = secret32
				}
				token := sign(t, method, key, c)

				got, err := v.Authenticate(t.Context(), token)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Authenticate() error = %v, want %v", err, tt.wantErr)
					}
					if got.UserID != "" {
						t.Errorf("Authenticate() returned identity %q with an error", got.UserID)
					}
					return
				}
				if err != nil {
					t.Fatalf("Authenticate() error = %v", err)
				}
				tt.want.ExpiresAt = now.Add(time.Hour)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("identity (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestVerifierMalformed(t *testing.T) {
	t.Parallel()
	v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(t, jwt.SigningMethodHS256, secret32, jwt.MapClaims{"sub": "a", "exp": time.Now().Add(time.Hour).Unix()})
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + jwtEncode(`{"sub":"admin","exp":4102444800}`) + "." + parts[2]
	for _, token := range []string{"", "abc", "a.b.c", "a.b", valid + "x", tampered, parts[0] + "." + parts[1] + "."} {
		if _, err := v.Authenticate(t.Context(), token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Authenticate(%.20q…) = %v, want ErrInvalidToken", token, err)
		}
	}
}

func jwtEncode(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func TestVerifierLeeway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		leeway  time.Duration
		after   time.Duration // time passed after exp
		wantErr error
	}{
		{"no leeway, just expired", 0, time.Second, auth.ErrExpired},
		{"within leeway", 30 * time.Second, 29 * time.Second, nil},
		{"beyond leeway", 30 * time.Second, 31 * time.Second, auth.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Leeway: tt.leeway})
				if err != nil {
					t.Fatal(err)
				}
				token := sign(t, jwt.SigningMethodHS256, secret32, jwt.MapClaims{"sub": "a", "exp": time.Now().Add(time.Minute).Unix()})
				if _, err := v.Authenticate(t.Context(), token); err != nil {
					t.Fatalf("fresh token rejected: %v", err)
				}
				time.Sleep(time.Minute + tt.after)
				if _, err := v.Authenticate(t.Context(), token); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("after %v: Authenticate() = %v, want %v", time.Minute+tt.after, err, tt.wantErr)
				}
			})
		})
	}
}

func TestVerifierPublicKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pub    crypto.PublicKey
		algs   []string
		method jwt.SigningMethod
		priv   any
		ok     bool
	}{
		{"RSA default RS256", rsaKey().Public(), nil, jwt.SigningMethodRS256, rsaKey(), true},
		{"RSA pinned PS256", rsaKey().Public(), []string{"PS256"}, jwt.SigningMethodPS256, rsaKey(), true},
		{"RSA PS256 not pinned", rsaKey().Public(), nil, jwt.SigningMethodPS256, rsaKey(), false},
		{"ECDSA P-256", p256().Public(), nil, jwt.SigningMethodES256, p256(), true},
		{"ECDSA P-384", p384().Public(), nil, jwt.SigningMethodES384, p384(), true},
		{"ECDSA other key", p256().Public(), nil, jwt.SigningMethodES256, must(jwtauthTestKey()), false},
		{"Ed25519", edKey().Public(), nil, jwt.SigningMethodEdDSA, edKey(), true},
		// The classic confusion attack: an HS256 token whose HMAC secret
		// is the verifier's public key, which the attacker knows.
		{"HS256 signed with the RSA public key", rsaKey().Public(), nil, jwt.SigningMethodHS256, []byte(pemOf(t, rsaKey().Public())), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := jwtauth.NewPublicKey(tt.pub, jwtauth.Options{Algorithms: tt.algs})
			if err != nil {
				t.Fatal(err)
			}
			token := sign(t, tt.method, tt.priv, jwt.MapClaims{"sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
			id, err := v.Authenticate(t.Context(), token)
			if tt.ok {
				if err != nil || id.UserID != "bob" {
					t.Fatalf("Authenticate() = %q, %v; want bob", id.UserID, err)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Authenticate() = %q, %v; want ErrInvalidToken", id.UserID, err)
			}
		})
	}
}

// TestErrorsNeverQuoteTheToken guards the rule that no error carries a token
// or a claim value: errors end up in logs.
func TestErrorsNeverQuoteTheToken(t *testing.T) {
	t.Parallel()
	v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Issuer: "https://login.test", Audience: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "SECRETMARKER"
	exp := time.Now().Add(time.Hour).Unix()
	tokens := []string{
		sign(t, jwt.SigningMethodHS256, secret32, jwt.MapClaims{"sub": marker, "iss": marker, "aud": "chat", "exp": exp}),
		sign(t, jwt.SigningMethodHS256, secret32, jwt.MapClaims{"sub": marker, "iss": "https://login.test", "aud": marker, "exp": exp}),
		sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("w", 32)), jwt.MapClaims{"sub": marker, "exp": exp}),
		jwtEncode(`{"alg":"`+marker+`"}`) + "." + jwtEncode(`{"sub":"`+marker+`"}`) + ".c2ln",
		jwtEncode(`{"alg":"HS256"}`) + "." + jwtEncode(`{"scope":{"`+marker+`":1},"exp":1}`) + ".c2ln",
		marker + "." + marker + "." + marker,
	}
	for _, token := range tokens {
		_, err := v.Authenticate(t.Context(), token)
		if err == nil {
			t.Fatal("a token meant to fail was accepted")
		}
		if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), token) {
			t.Errorf("error %q quotes the token or a claim", err)
		}
	}
}

func FuzzAuthenticate(f *testing.F) {
	v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{})
	if err != nil {
		f.Fatal(err)
	}
	valid := sign(f, jwt.SigningMethodHS256, secret32, jwt.MapClaims{"sub": "alice", "scope": "a b", "exp": 4102444800})
	f.Add(valid)
	f.Add(valid[:len(valid)-2])
	f.Add("")
	f.Add("e30.e30.")
	f.Add(jwtEncode(`{"alg":"none","typ":"JWT"}`) + "." + jwtEncode(`{"sub":"alice","exp":4102444800}`) + ".")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Authenticate(t.Context(), token)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrExpired) {
				t.Fatalf("error %v wraps neither ErrInvalidToken nor ErrExpired", err)
			}
			if len(token) > 3 && strings.Contains(err.Error(), token) {
				t.Fatalf("error %q quotes the token", err)
			}
			if id.UserID != "" {
				t.Fatalf("identity %q returned with an error", id.UserID)
			}
			return
		}
		// Only a correctly signed token passes; the fuzzer cannot forge
		// one, so any accepted token carries the seed's claims.
		if id.UserID != "alice" || id.ExpiresAt.IsZero() {
			t.Fatalf("accepted token with identity %+v", id)
		}
	})
}

func TestVerifierClaimNames(t *testing.T) {
	t.Parallel()
	names := jwtauth.ClaimNames{UserID: "oid", Email: "upn", Scopes: []string{"roles"}}
	v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Claims: names})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name    string
		claims  jwt.MapClaims
		want    auth.Identity
		wantErr error
	}{
		{"renamed claims", jwt.MapClaims{"oid": "u-1", "sub": "pairwise", "upn": "a@example.com", "roles": []string{"admin"}, "scope": "ignored"},
			auth.Identity{UserID: "u-1", Email: "a@example.com", Scopes: []string{"admin"}, ExpiresAt: exp}, nil},
		{"sub alone is not the user ID", jwt.MapClaims{"sub": "pairwise"}, auth.Identity{}, auth.ErrInvalidToken},
		{"user ID of the wrong type", jwt.MapClaims{"oid": 7}, auth.Identity{}, auth.ErrInvalidToken},
		{"e-mail of the wrong type", jwt.MapClaims{"oid": "u-1", "upn": []string{"a"}}, auth.Identity{}, auth.ErrInvalidToken},
		{"scopes array with a number", jwt.MapClaims{"oid": "u-1", "roles": []any{"a", 1}}, auth.Identity{}, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.claims["exp"] = exp.Unix()
			got, err := v.Authenticate(t.Context(), sign(t, jwt.SigningMethodHS256, secret32, tt.claims))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Authenticate() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Claims: jwtauth.ClaimNames{Scopes: []string{""}}}); !errors.Is(err, jwtauth.ErrInvalidOptions) {
		t.Errorf("an empty scope claim name: err = %v, want ErrInvalidOptions", err)
	}
}
