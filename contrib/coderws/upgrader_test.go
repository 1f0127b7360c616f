package coderws_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/contrib/coderws"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

func TestNewUpgraderRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts coderws.Options
	}{
		{"negative read limit", coderws.Options{ReadLimit: -1}},
		{"malformed origin pattern", coderws.Options{OriginPatterns: []string{"[app.test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := coderws.NewUpgrader(tt.opts); !errors.Is(err, coderws.ErrInvalidOptions) {
				t.Fatalf("NewUpgrader() = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestUpgraderOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     coderws.Options
		wantType websocket.MessageType
		wantExt  string
	}{
		{"defaults: text, uncompressed", coderws.Options{}, websocket.MessageText, ""},
		{"binary", coderws.Options{Binary: true}, websocket.MessageBinary, ""},
		{"compression", coderws.Options{Compression: true}, websocket.MessageText, "permessage-deflate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up, err := coderws.NewUpgrader(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			srv := wsmanagertest.NewServer(t, up, "")
			ctx := wsmanagertest.Context(t)
			client, resp, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{CompressionMode: websocket.CompressionNoContextTakeover})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = client.CloseNow() })
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, tt.wantExt) || (tt.wantExt == "" && got != "") {
				t.Errorf("Sec-WebSocket-Extensions = %q, want %q", got, tt.wantExt)
			}
			conn := srv.Accept(t)
			msg := strings.Repeat("compressible ", 100)
			if err := conn.Write(ctx, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			typ, got, err := client.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantType || string(got) != msg {
				t.Errorf("client read %v %d bytes, want %v %d bytes", typ, len(got), tt.wantType, len(msg))
			}
		})
	}
}

func TestWrapClient(t *testing.T) {
	t.Parallel()
	up, err := coderws.NewUpgrader(coderws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := wsmanagertest.NewServer(t, up, "chat")
	ctx := wsmanagertest.Context(t)
	c, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	client := coderws.Wrap(c, websocket.MessageText)
	server := srv.Accept(t)
	if got := client.Subprotocol(); got != "chat" {
		t.Errorf("client Subprotocol() = %q, want chat", got)
	}
	if got := server.(*coderws.Conn).Subprotocol(); got != "chat" {
		t.Errorf("server Subprotocol() = %q, want chat", got)
	}
	if err := client.Write(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, err := server.Read(ctx)
	if err != nil || string(got) != "ping" {
		t.Fatalf("server Read = %q, %v; want ping", got, err)
	}
}
