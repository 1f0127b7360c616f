package wsmanagertest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ssotkit/ssot/wsmanager"
)

// Opcode is a WebSocket frame's opcode (RFC 6455 section 5.2).
type Opcode byte

// The opcodes a Client sends and receives.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

type sentinel string

func (e sentinel) Error() string { return string(e) }

// ErrProtocol is returned by a Client's reads when the server breaks
// RFC 6455: a masked frame, reserved bits, an unexpected continuation, a
// text message or close reason that is not UTF-8.
const ErrProtocol = sentinel("wsmanagertest: the server broke the WebSocket protocol")

// Client is the client side of one WebSocket connection, over a plain TCP
// socket. Its writes are safe for concurrent use with each other and with
// one reader; the zero value is not usable: create clients with Dial.
type Client struct {
	nc net.Conn
	br *bufio.Reader

	// Response is the server's handshake response.
	Response *http.Response

	noPong atomic.Bool
	wmu    sync.Mutex
}

// SetNoPong stops ReadMessage from answering pings when on, as a peer that
// has stopped responding; it may be called while another goroutine reads.
func (c *Client) SetNoPong(on bool) { c.noPong.Store(on) }

// Dial opens a WebSocket connection to rawURL ("ws://host/path"), sending
// header with the handshake request. It returns the Client and the
// server's response when the server switched protocols, and an error
// wrapping the response's status otherwise; the response is returned in
// both cases when there is one.
func Dial(ctx context.Context, rawURL string, header http.Header) (*Client, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "ws" {
		return nil, nil, fmt.Errorf("wsmanagertest: %q is not a ws:// URL", rawURL)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: u.Path, RawQuery: u.RawQuery}, Host: u.Host, Header: header.Clone()}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		nc.Close()
		return nil, resp, fmt.Errorf("wsmanagertest: handshake refused with %s", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptKey(key) {
		nc.Close()
		return nil, resp, fmt.Errorf("%w: Sec-WebSocket-Accept %q", ErrProtocol, got)
	}
	_ = nc.SetDeadline(time.Time{})
	return &Client{nc: nc, br: br, Response: resp}, resp, nil
}

// acceptKey is the Sec-WebSocket-Accept a server must answer key with.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Subprotocol returns the subprotocol the server selected, or "".
func (c *Client) Subprotocol() string {
	return c.Response.Header.Get("Sec-WebSocket-Protocol")
}

// WriteMessage sends payload as one frame of op, masked as a client must.
func (c *Client) WriteMessage(op Opcode, payload []byte) error {
	return c.WriteFrame(true, op, payload)
}

// WriteFrame sends one frame; fin false starts or continues a fragmented
// message.
func (c *Client) WriteFrame(fin bool, op Opcode, payload []byte) error {
	hdr := make([]byte, 0, 14)
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	hdr = append(hdr, b0)
	switch n := len(payload); {
	case n <= 125:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(append(hdr, masked...))
	return err
}

// WriteClose sends a close frame with code and reason; a code of 0 sends a
// close frame with no payload at all.
func (c *Client) WriteClose(code int, reason string) error {
	if code == 0 {
		return c.WriteMessage(OpClose, nil)
	}
	return c.WriteMessage(OpClose, append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...))
}

// ReadFrame reads the next frame as the server sent it.
func (c *Client) ReadFrame() (fin bool, op Opcode, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return false, 0, nil, err
	}
	fin, op = h[0]&0x80 != 0, Opcode(h[0]&0x0F)
	if h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return fin, op, nil, fmt.Errorf("%w: reserved bits or a masked frame", ErrProtocol)
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return fin, op, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return fin, op, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<30 {
		return fin, op, nil, fmt.Errorf("%w: a %d-byte frame", ErrProtocol, n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.br, payload)
	return fin, op, payload, err
}

// ReadMessage returns the next whole message and its opcode (OpText or
// OpBinary), answering pings on the way unless SetNoPong turned that off. When the
// server sends a close frame it returns a *wsmanager.CloseError with its
// code (1005 for none) and reason, without answering it: call WriteClose
// to complete the handshake. When the connection ends without one it
// returns the socket's error.
func (c *Client) ReadMessage() (Opcode, []byte, error) {
	var (
		msg  []byte
		mop  Opcode
		open bool
	)
	for {
		fin, op, payload, err := c.ReadFrame()
		if err != nil {
			return 0, nil, err
		}
		switch op {
		case OpPing:
			if !c.noPong.Load() {
				if err := c.WriteMessage(OpPong, payload); err != nil {
					return 0, nil, err
				}
			}
			continue
		case OpPong:
			continue
		case OpClose:
			ce := &wsmanager.CloseError{Code: wsmanager.CodeNoStatus}
			if len(payload) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(payload))
				ce.Reason = string(payload[2:])
				if !utf8.ValidString(ce.Reason) {
					return 0, nil, fmt.Errorf("%w: a close reason that is not UTF-8", ErrProtocol)
				}
			} else if len(payload) == 1 {
				return 0, nil, fmt.Errorf("%w: a 1-byte close payload", ErrProtocol)
			}
			return 0, nil, ce
		case OpText, OpBinary:
			if open {
				return 0, nil, fmt.Errorf("%w: a new message inside a fragmented one", ErrProtocol)
			}
			mop, open = op, true
		case OpContinuation:
			if !open {
				return 0, nil, fmt.Errorf("%w: a continuation outside a message", ErrProtocol)
			}
		default:
			return 0, nil, fmt.Errorf("%w: opcode %#x", ErrProtocol, byte(op))
		}
		msg = append(msg, payload...)
		if fin {
			if mop == OpText && !utf8.Valid(msg) {
				return 0, nil, fmt.Errorf("%w: a text message that is not UTF-8", ErrProtocol)
			}
			if msg == nil {
				msg = []byte{}
			}
			return mop, msg, nil
		}
	}
}

// ReadClose reads until the server's close frame and returns it, skipping
// messages; it returns the socket's error if the connection ends without
// one.
func (c *Client) ReadClose() (*wsmanager.CloseError, error) {
	for {
		_, _, err := c.ReadMessage()
		var ce *wsmanager.CloseError
		switch {
		case errors.As(err, &ce):
			return ce, nil
		case err != nil:
			return nil, err
		}
	}
}

// Close closes the socket without a close frame, as a peer that goes away
// cleanly at the TCP level but breaks the WebSocket protocol.
func (c *Client) Close() error { return c.nc.Close() }

// Reset closes the socket with a TCP reset, as a peer whose machine or
// network went away.
func (c *Client) Reset() error {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	return c.nc.Close()
}

// SetReadBuffer sets the socket's receive buffer, to make a peer that does
// not read fill up quickly.
func (c *Client) SetReadBuffer(bytes int) error {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		return tc.SetReadBuffer(bytes)
	}
	return nil
}
