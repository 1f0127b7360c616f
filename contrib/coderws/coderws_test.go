package coderws_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/contrib/coderws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newUpgrader(t testing.TB, opts wsmanagertest.Options) wsmanager.Upgrader {
	t.Helper()
	up, err := coderws.NewUpgrader(coderws.Options{ReadLimit: opts.ReadLimit, OriginPatterns: opts.OriginPatterns, Binary: opts.Binary})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestConformance(t *testing.T) {
	t.Parallel()
	wsmanagertest.Run(t, wsmanagertest.Transport{
		NewUpgrader:      newUpgrader,
		ErrCloseCode:     coderws.ErrCloseCode,
		DefaultReadLimit: coderws.DefaultReadLimit,
	})
}

// TestCloseSeenByGorilla checks the server's close code and reason with a
// client from another WebSocket library, as browsers and other stacks see
// them.
func TestCloseSeenByGorilla(t *testing.T) {
	t.Parallel()
	srv := wsmanagertest.NewServer(t, newUpgrader(t, wsmanagertest.Options{}), "chat.v1")
	ctx := wsmanagertest.Context(t)
	d := websocket.Dialer{Subprotocols: []string{"chat.v1"}}
	client, _, err := d.DialContext(ctx, srv.URL, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn := srv.Accept(t)
	if err := conn.Write(context.Background(), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Close(4001, "kicked") }()
	if _, msg, err := client.ReadMessage(); err != nil || string(msg) != "hello" || client.Subprotocol() != "chat.v1" {
		t.Fatalf("gorilla read %q, %v with subprotocol %q", msg, err, client.Subprotocol())
	}
	_, _, err = client.ReadMessage()
	if !websocket.IsCloseError(err, 4001) || err.(*websocket.CloseError).Text != "kicked" {
		t.Errorf("gorilla saw %v, want close 4001 \"kicked\"", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Close: %v", err)
	}
}
