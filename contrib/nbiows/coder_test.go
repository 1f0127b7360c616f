package nbiows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// TestSeenByCoder checks the subprotocol, messages both ways and the close
// with a client from another WebSocket library.
func TestSeenByCoder(t *testing.T) {
	t.Parallel()
	srv := wsmanagertest.NewServer(t, newNbioUpgrader(t, nbiows.Options{}), "chat.v1")
	ctx := wsmanagertest.Context(t)
	client, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{"chat.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	conn := srv.Accept(t).(*nbiows.Conn)
	if conn.Subprotocol() != "chat.v1" || client.Subprotocol() != "chat.v1" {
		t.Errorf("subprotocol %q (server), %q (client)", conn.Subprotocol(), client.Subprotocol())
	}
	r := newRecorder()
	conn.Receive(r)
	for _, m := range []string{"up one", "up two"} {
		if err := client.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, 2)
	if msgs, _, _ := r.snapshot(); len(msgs) != 2 || msgs[0] != "up one" || msgs[1] != "up two" {
		t.Errorf("server received %q", msgs)
	}
	if err := conn.WriteMessages([][]byte{[]byte("one"), []byte("two")}, time.Now().Add(wsmanagertest.Timeout)); err != nil {
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
	r.wait(t, 1)
}
