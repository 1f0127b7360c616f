package nbiows

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// acceptGUID is the GUID RFC 6455 section 1.3 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// checkHandshake checks that r is a WebSocket opening handshake (RFC 6455
// section 4.2.1) and returns its key; otherwise it answers 400, or 426
// for another protocol version, and returns why.
func checkHandshake(w http.ResponseWriter, r *http.Request) (string, error) {
	var why string
	switch {
	case r.Method != http.MethodGet:
		why = "method is not GET"
	case !hasToken(r.Header, "Connection", "upgrade"):
		why = "Connection header lacks upgrade"
	case !hasToken(r.Header, "Upgrade", "websocket"):
		why = "Upgrade header lacks websocket"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "unsupported WebSocket version", http.StatusUpgradeRequired)
		return "", errors.New("unsupported Sec-WebSocket-Version")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if why == "" {
		if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
			why = "malformed Sec-WebSocket-Key"
		}
	}
	if why != "" {
		http.Error(w, "not a WebSocket handshake: "+why, http.StatusBadRequest)
		return "", errors.New(why)
	}
	return key, nil
}

// hasToken reports whether a comma-separated header lists token,
// case-insensitively.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptKey is the Sec-WebSocket-Accept value for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// hijacked is a socket taken over from net/http after the 101 response.
type hijacked struct {
	sock  net.Conn // for the engine, which takes it over
	early []byte   // what the client sent after its request
}

// hijack takes the connection from net/http and writes the 101 response
// within timeout.
func hijack(w http.ResponseWriter, key, subprotocol string, timeout time.Duration) (hijacked, error) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
		return hijacked{}, fmt.Errorf("hijack: %w", err)
	}
	if _, ok := nc.(syscall.Conn); !ok {
		_ = nc.Close()
		return hijacked{}, fmt.Errorf("a %T is not a socket the engine can read", nc)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n"
	if subprotocol != "" {
		resp += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n"
	}
	resp += "\r\n"
	_ = nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := nc.Write([]byte(resp)); err != nil {
		_ = nc.Close()
		return hijacked{}, fmt.Errorf("writing the 101 response: %w", err)
	}
	_ = nc.SetDeadline(time.Time{})
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		early = append([]byte(nil), b...)
	}
	return hijacked{sock: nc, early: early}, nil
}
