package jwtauth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

func ExampleNewHMAC() {
	secret := []byte(strings.Repeat("s", 32)) // load it from the environment
	opts := jwtauth.Options{Issuer: "https://login.example.com", Audience: "chat"}
	v, err := jwtauth.NewHMAC(secret, opts)
	if err != nil {
		fmt.Println(err)
		return
	}

	s, _ := jwtauth.NewSigner(secret, jwtauth.SignerOptions{Issuer: opts.Issuer, Audience: opts.Audience})
	token, _ := s.Sign(auth.Identity{UserID: "alice", Scopes: []string{"chat:read", "chat:write"}}, time.Now(), time.Minute)

	id, err := v.Authenticate(context.Background(), token)
	fmt.Println(id.UserID, id.Scopes, err)

	_, err = v.Authenticate(context.Background(), token+"tampered")
	fmt.Println(errors.Is(err, auth.ErrInvalidToken))

	_, err = jwtauth.NewHMAC([]byte("too short"), jwtauth.Options{})
	fmt.Println(errors.Is(err, jwtauth.ErrWeakKey))
	// Output:
	// alice [chat:read chat:write] <nil>
	// true
	// true
}
