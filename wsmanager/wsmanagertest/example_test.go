package wsmanagertest_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// helloServer is the smallest WebSocket server there is, written out for
// the example: it completes the handshake, sends one text message and
// closes with 1000. The conformance suite runs a transport adapter's own
// Upgrader instead.
func helloServer(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	nc, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer nc.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(h[:]))
	rw.Write([]byte{0x81, 5})             // FIN, text, 5 bytes, unmasked
	rw.WriteString("hello")               //
	rw.Write([]byte{0x88, 2, 0x03, 0xe8}) // FIN, close, code 1000
	rw.Flush()
	var buf [64]byte
	nc.Read(buf[:]) // the client's answer to the close
}

// A Client plays the peer of a transport under test, frame by frame, over
// a real socket.
func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(helloServer))
	defer srv.Close()
	c, _, err := wsmanagertest.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	op, msg, err := c.ReadMessage()
	fmt.Println(op == wsmanagertest.OpText, string(msg), err)
	ce, err := c.ReadClose()
	fmt.Println(ce.Code, err)
	// Output:
	// true hello <nil>
	// 1000 <nil>
}
