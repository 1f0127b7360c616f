package jwtauth_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

func TestSignerRoundTrip(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, err := jwtauth.NewSigner(secret32, jwtauth.SignerOptions{Issuer: "dev", Audience: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Issuer: "dev", Audience: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		in := auth.Identity{UserID: "alice", Email: "a@example.com", Scopes: []string{"chat"}}
		token, err := s.Sign(in, now, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Authenticate(t.Context(), token)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.ExpiresAt = now.Add(15 * time.Minute)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("identity (-want +got):\n%s", diff)
		}

		time.Sleep(15*time.Minute + time.Second)
		if _, err := v.Authenticate(t.Context(), token); !errors.Is(err, auth.ErrExpired) {
			t.Errorf("token past its ttl: %v, want ErrExpired", err)
		}

		other, err := jwtauth.NewHMAC(secret32, jwtauth.Options{Audience: "billing"})
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := s.Sign(in, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Authenticate(t.Context(), fresh); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("token for another audience: %v, want ErrInvalidToken", err)
		}
	})
}

func TestSignerValidation(t *testing.T) {
	t.Parallel()
	if _, err := jwtauth.NewSigner([]byte(strings.Repeat("k", 31)), jwtauth.SignerOptions{}); !errors.Is(err, jwtauth.ErrWeakKey) {
		t.Errorf("NewSigner(31 bytes) = %v, want ErrWeakKey", err)
	}
	s, err := jwtauth.NewSigner(secret32, jwtauth.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(auth.Identity{UserID: "a"}, time.Now(), 0); !errors.Is(err, jwtauth.ErrInvalidOptions) {
		t.Errorf("Sign(ttl 0) = %v, want ErrInvalidOptions", err)
	}
	if _, err := s.Sign(auth.Identity{}, time.Now(), time.Minute); !errors.Is(err, jwtauth.ErrInvalidOptions) {
		t.Errorf("Sign(no user) = %v, want ErrInvalidOptions", err)
	}
}
