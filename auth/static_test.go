package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
)

func TestNewStatic(t *testing.T) {
	t.Parallel()
	tokens := map[string]auth.Identity{"dev-alice": {UserID: "alice", Scopes: []string{"chat"}}}
	if _, err := auth.NewStatic(tokens, env.Production); !errors.Is(err, auth.ErrProduction) {
		t.Fatalf("production = %v, want ErrProduction", err)
	}
	if _, err := auth.NewStatic(tokens, env.Production+1); !errors.Is(err, auth.ErrProduction) {
		t.Errorf("an unknown environment = %v, want ErrProduction (fail closed)", err)
	}
	for _, name := range []env.Name{env.Development, env.Test, env.Staging} {
		if _, err := auth.NewStatic(tokens, name); err != nil {
			t.Errorf("%v: %v", name, err)
		}
	}
	for _, bad := range []map[string]auth.Identity{{"": {UserID: "a"}}, {"t": {}}} {
		if _, err := auth.NewStatic(bad, env.Test); !errors.Is(err, auth.ErrInvalidOptions) {
			t.Errorf("NewStatic(%v) = %v", bad, err)
		}
	}
	st, _ := auth.NewStatic(tokens, env.Test)
	tokens["dev-alice"] = auth.Identity{UserID: "mallory"} // the table was copied
	id, err := st.Authenticate(context.Background(), "dev-alice")
	if err != nil || id.UserID != "alice" {
		t.Errorf("Authenticate = %+v, %v", id, err)
	}
	id.Scopes[0] = "admin"
	if id2, _ := st.Authenticate(context.Background(), "dev-alice"); id2.Scopes[0] != "chat" {
		t.Error("a returned identity shares memory with the table")
	}
	for _, tok := range []string{"dev-alic", "dev-alice ", "DEV-ALICE", ""} {
		if _, err := st.Authenticate(context.Background(), tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Authenticate(%q) = %v", tok, err)
		}
	}
}
