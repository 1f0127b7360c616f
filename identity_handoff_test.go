package ssot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/wsmanager"
)

// handoffUpgrader upgrades to one in-memory connection the test drives.
type handoffUpgrader struct{ conn *memconn.Conn }

func (u handoffUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	return u.conn, nil
}

// TestWebSocketHandlersFindTheIdentity checks that a WebSocket handler
// finds the caller's identity with every IdentityFrom of the library: the
// identity has one context key, in package auth.
func TestWebSocketHandlersFindTheIdentity(t *testing.T) {
	t.Parallel()
	backend, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Test)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(backend, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Shutdown(context.Background(), nil, f, a) })
	found := make(chan [3]string, 1)
	h := wsmanager.HandlerFunc(func(ctx context.Context, _ *wsmanager.Connection, _ []byte) error {
		fromAuth, _ := auth.IdentityFrom(ctx)
		fromMiddleware, _ := middleware.IdentityFrom(ctx)
		fromWS, _ := wsmanager.IdentityFrom(ctx)
		found <- [3]string{fromAuth.UserID, fromMiddleware.UserID, fromWS.UserID}
		return nil
	})
	conn := memconn.New(memconn.Options{})
	ep, err := wsmanager.NewEndpoint(f, a, handoffUpgrader{conn: conn}, h, wsmanager.EndpointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn.Push([]byte("hello"))
	served := make(chan struct{})
	go func() {
		defer close(served)
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Header.Set("Authorization", "Bearer alice-token")
		ep.ServeHTTP(httptest.NewRecorder(), r)
	}()
	got := <-found
	conn.PeerClose()
	<-served
	if got != [3]string{"alice", "alice", "alice"} {
		t.Errorf("auth, middleware and wsmanager IdentityFrom in a WebSocket handler = %q, want alice from each", got)
	}
}
