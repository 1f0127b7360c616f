package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssotkit/ssot/auth"
)

func ExampleFunc() {
	// Any function can be the backend: a database lookup, a JWT check, …
	backend := auth.Func(func(ctx context.Context, token string) (auth.Identity, error) {
		if user, ok := strings.CutPrefix(token, "demo-"); ok {
			return auth.Identity{UserID: user, Scopes: []string{"chat"}}, nil
		}
		return auth.Identity{}, auth.ErrInvalidToken
	})
	u, err := auth.New(backend, auth.Options{})
	if err != nil {
		panic(err)
	}
	defer u.Close(context.Background())

	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Authorization", "Bearer demo-alice")
	id, err := u.AuthenticateRequest(r)
	fmt.Println(id.UserID, id.HasScope("chat"), err)

	_, err = u.Authenticate(context.Background(), "forged")
	fmt.Println(err, errors.Is(err, auth.ErrInvalidToken), auth.HTTPStatus(err), auth.CloseCode(err))
	// Output:
	// alice true <nil>
	// auth: invalid token true 401 1008
}

func ExampleNewIntrospection() {
	// An RFC 7662 endpoint; in production, your identity provider's.
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active := r.PostFormValue("token") == "opaque-123"
		_ = json.NewEncoder(w).Encode(map[string]any{"active": active, "sub": "alice", "scope": "chat"})
	}))
	defer idp.Close()

	backend, err := auth.NewIntrospection(idp.URL, nil, auth.IntrospectionOptions{
		ClientID: "chat-service", ClientSecret: "from-your-secret-store",
	})
	if err != nil {
		panic(err)
	}
	u, err := auth.New(backend, auth.Options{})
	if err != nil {
		panic(err)
	}
	defer u.Close(context.Background())

	for range 3 {
		id, err := u.Authenticate(context.Background(), "opaque-123")
		fmt.Println(id.UserID, id.Scopes, err)
	}
	st := u.Stats()
	fmt.Println("backend calls:", st.BackendCalls, "cache hits:", st.Hits)
	// Output:
	// alice [chat] <nil>
	// alice [chat] <nil>
	// alice [chat] <nil>
	// backend calls: 1 cache hits: 2
}
