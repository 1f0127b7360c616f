package gobwasws

import (
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"

	"github.com/gobwas/ws"
)

// TestContextPerCall: Conn takes a context per call, and the usual way to
// use one is a context per call, cancelled once the call returned. A
// context that ends after its call has returned must not affect later
// calls made with other contexts: each Write and Read below must succeed.
func TestContextPerCall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		server, client := net.Pipe()
		c := newConn(server, nil, ws.OpText, 1<<10, 0, "")
		got := make(chan string, 8)
		defer func() {
			_ = c.Close(1000, "")
			client.Close()
			for range got {
			}
		}()
		go func() {
			for {
				f, err := readServerFrame(client)
				if err != nil {
					close(got)
					return
				}
				got <- string(f.Payload)
			}
		}()
		for i := range 3 {
			ctx, cancel := context.WithCancel(t.Context())
			err := c.Write(ctx, []byte("hello"))
			cancel()
			synctest.Wait() // whatever the end of ctx sets off has run
			if err != nil {
				t.Fatalf("Write %d after the previous call's context ended: %v", i, err)
			}
			if msg := <-got; msg != "hello" {
				t.Fatalf("client read %q", msg)
			}
		}
		for i := range 3 {
			go func() { _ = ws.WriteFrame(client, ws.MaskFrame(ws.NewTextFrame([]byte("hi")))) }()
			ctx, cancel := context.WithCancel(t.Context())
			msg, err := c.Read(ctx)
			cancel()
			synctest.Wait()
			if err != nil || string(msg) != "hi" {
				t.Fatalf("Read %d after the previous call's context ended = %q, %v", i, msg, err)
			}
		}
	})
}

// readServerFrame reads one frame the server sent, as a client does.
func readServerFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return ws.Frame{}, err
	}
	return ws.Frame{Header: h, Payload: payload}, nil
}
