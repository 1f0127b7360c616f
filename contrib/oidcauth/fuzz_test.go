package oidcauth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
)

// FuzzAuthenticate feeds arbitrary tokens to a Verifier of a real provider
// (reached in memory) whose key set it never fetches again within the run:
// every input is rejected as invalid or expired, naming no part of itself,
// unless it is a token the provider signed.
func FuzzAuthenticate(f *testing.F) {
	p := memoryProvider(f, memoryIssuer, newStorage(f))
	v := newVerifier(f, p, oidcauth.Options{RefreshInterval: time.Hour})
	valid := p.token(f, clientLong)
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add(unsigned(f, p))
	f.Add("")
	f.Add("e30.e30.e30")
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
		if id.UserID != subjectAlice {
			t.Fatalf("accepted a token with identity %+v", id)
		}
	})
}
