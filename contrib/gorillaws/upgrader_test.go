package gorillaws_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/contrib/gorillaws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

func TestNewUpgraderRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts gorillaws.Options
	}{
		{"negative read limit", gorillaws.Options{ReadLimit: -1}},
		{"negative buffer size", gorillaws.Options{BufferSize: -1}},
		{"malformed origin pattern", gorillaws.Options{OriginPatterns: []string{"[app.test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := gorillaws.NewUpgrader(tt.opts); !errors.Is(err, gorillaws.ErrInvalidOptions) {
				t.Fatalf("NewUpgrader() = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestUpgraderOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     gorillaws.Options
		wantType websocket.MessageType
		wantExt  string
	}{
		{"defaults: text, uncompressed", gorillaws.Options{}, websocket.MessageText, ""},
		{"binary", gorillaws.Options{Binary: true}, websocket.MessageBinary, ""},
		{"compression", gorillaws.Options{Compression: true}, websocket.MessageText, "permessage-deflate"},
		{"small buffers", gorillaws.Options{BufferSize: 256}, websocket.MessageText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up, err := gorillaws.NewUpgrader(tt.opts)
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
	up, err := gorillaws.NewUpgrader(gorillaws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := wsmanagertest.NewServer(t, up, "chat")
	ctx := wsmanagertest.Context(t)
	d := gorilla.Dialer{Subprotocols: []string{"chat"}}
	raw, resp, err := d.DialContext(ctx, srv.URL, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	client := gorillaws.Wrap(raw, gorilla.TextMessage, 0)
	t.Cleanup(func() { _ = client.Close(1000, "") })
	server := srv.Accept(t)
	if got := client.Subprotocol(); got != "chat" {
		t.Errorf("client Subprotocol() = %q, want chat", got)
	}
	if got := server.(*gorillaws.Conn).Subprotocol(); got != "chat" {
		t.Errorf("server Subprotocol() = %q, want chat", got)
	}
	if err := client.Write(ctx, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, err := server.Read(ctx)
	if err != nil || string(got) != "ping" {
		t.Fatalf("server Read = %q, %v; want ping", got, err)
	}

	// Both ends are this adapter: a close from one reaches the other.
	done := make(chan error, 1)
	go func() { done <- server.Close(1013, "try again later") }()
	_, err = client.Read(ctx)
	var ce *wsmanager.CloseError
	if !errors.As(err, &ce) || ce.Code != 1013 || ce.Reason != "try again later" {
		t.Errorf("client Read after close = %v, want close 1013", err)
	}
	if err := <-done; err != nil {
		t.Errorf("server Close: %v", err)
	}
	if err := server.Close(1000, ""); !errors.Is(err, gorillaws.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}
