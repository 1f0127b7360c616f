package gobwasws

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestUpgradeConnKeepsPipelinedFrame: a client that sends its first frame
// in the same write as its request, without waiting for the response, has
// that frame read by the Conn, as Upgrade keeps such early bytes too.
func TestUpgradeConnKeepsPipelinedFrame(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer client.Close()
	up, err := NewUpgrader(Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	mask := []byte{1, 2, 3, 4}
	frame := append([]byte{0x81, 0x80 | 5}, mask...)
	for i, b := range []byte("hello") {
		frame = append(frame, b^mask[i%4])
	}
	go func() {
		_, _ = client.Write(append([]byte(req), frame...))
		if resp, err := http.ReadResponse(bufio.NewReader(client), nil); err == nil {
			_ = resp.Body.Close()
		}
	}()
	c, err := up.UpgradeConn(server, func(*Request) (string, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(1000, "")
	defer client.Close() // first, so that Close does not wait for an answer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if msg, err := c.Read(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("Read = %q, %v; want the pipelined frame", msg, err)
	}
}
