package gobwasws_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newUpgrader(t testing.TB, opts wsmanagertest.Options) wsmanager.Upgrader {
	t.Helper()
	up, err := gobwasws.NewUpgrader(gobwasws.Options{ReadLimit: opts.ReadLimit, OriginPatterns: opts.OriginPatterns, Binary: opts.Binary})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestConformance(t *testing.T) {
	t.Parallel()
	wsmanagertest.Run(t, wsmanagertest.Transport{
		NewUpgrader:      newUpgrader,
		ErrCloseCode:     gobwasws.ErrCloseCode,
		DefaultReadLimit: gobwasws.DefaultReadLimit,
		Batch:            true,
	})
}

func TestNewUpgraderRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]gobwasws.Options{
		"negative read limit":        {ReadLimit: -1},
		"negative ping interval":     {PingInterval: -time.Second},
		"negative handshake timeout": {HandshakeTimeout: -time.Second},
		"malformed origin pattern":   {OriginPatterns: []string{"[app.test"}},
	} {
		if _, err := gobwasws.NewUpgrader(opts); !errors.Is(err, gobwasws.ErrInvalidOptions) {
			t.Errorf("%s: NewUpgrader = %v, want ErrInvalidOptions", name, err)
		}
	}
}

// TestCloseSeenByCoder checks the server's messages, subprotocol and close
// with a client from another WebSocket library.
func TestCloseSeenByCoder(t *testing.T) {
	t.Parallel()
	srv := wsmanagertest.NewServer(t, newUpgrader(t, wsmanagertest.Options{}), "chat.v1")
	ctx := wsmanagertest.Context(t)
	client, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{"chat.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	conn := srv.Accept(t).(*gobwasws.Conn)
	if conn.Subprotocol() != "chat.v1" || client.Subprotocol() != "chat.v1" {
		t.Errorf("subprotocol %q (server), %q (client)", conn.Subprotocol(), client.Subprotocol())
	}
	if err := conn.WriteBatch(ctx, [][]byte{[]byte("one"), []byte("two")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Close(4001, "kicked") }()
	for _, want := range []string{"one", "two"} {
		if _, msg, err := client.Read(ctx); err != nil || string(msg) != want {
			t.Fatalf("coder read %q, %v; want %q", msg, err, want)
		}
	}
	_, _, err = client.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "kicked" {
		t.Errorf("coder saw %v, want close 4001 \"kicked\"", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Close: %v", err)
	}
}
