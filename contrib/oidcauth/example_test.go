package oidcauth_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
)

// A service that accepts the access tokens of its OpenID provider: the
// Verifier checks them against the provider's keys, auth.Unified caches,
// deduplicates and fails closed when the provider is unreachable.
func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := oidcauth.New(ctx, "https://login.example.com/realms/chat", oidcauth.Options{
		Audience: "chat-api", // this service's identifier at the provider
	})
	if err != nil {
		log.Fatal(err) // refuse to start: provider unreachable or misconfigured
	}
	authn, err := auth.New(v, auth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer authn.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		id, err := authn.AuthenticateRequest(r)
		if err != nil {
			http.Error(w, http.StatusText(auth.HTTPStatus(err)), auth.HTTPStatus(err))
			return
		}
		w.Write([]byte(id.UserID))
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
