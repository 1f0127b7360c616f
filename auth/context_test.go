package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/auth"
)

func TestIdentityContext(t *testing.T) {
	t.Parallel()
	if _, ok := auth.IdentityFrom(context.Background()); ok {
		t.Error("IdentityFrom found an identity in an empty context")
	}
	want := auth.Identity{UserID: "alice", Email: "alice@example.com", Scopes: []string{"chat"}, ExpiresAt: time.Unix(1700000000, 0)}
	ctx := auth.WithIdentity(context.Background(), want)
	got, ok := auth.IdentityFrom(ctx)
	if !ok {
		t.Fatal("IdentityFrom found nothing after WithIdentity")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	// Each reader gets its own Scopes: one handler's change reaches no other.
	got.Scopes[0] = "admin"
	if again, _ := auth.IdentityFrom(ctx); again.Scopes[0] != "chat" {
		t.Errorf("a reader's change to Scopes reached the context: %q", again.Scopes)
	}
}
