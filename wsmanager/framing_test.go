package wsmanager_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// A minimal message framing over a hijacked HTTP connection, standing in
// for a WebSocket library so that the endpoint is tested over a real
// socket: each frame is a kind byte, a big-endian uint32 length and the
// payload. A close frame's payload is a big-endian uint16 code and a reason.
const (
	frameMessage = 0
	frameClose   = 1
)

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	hdr := [5]byte{kind}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	_, err := w.Write(append(hdr[:], payload...))
	return err
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 1<<20 {
		return 0, nil, errors.New("frame too large")
	}
	payload := make([]byte, n)
	_, err := io.ReadFull(r, payload)
	return hdr[0], payload, err
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// frameConn is the server side: a wsmanager.Conn.
type frameConn struct {
	nc        net.Conn
	br        *bufio.Reader
	wmu       sync.Mutex
	closeOnce sync.Once
}

func (c *frameConn) Read(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	kind, payload, err := readFrame(c.br)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if kind == frameClose {
		if len(payload) < 2 {
			return nil, &wsmanager.CloseError{Code: wsmanager.CodeNoStatus}
		}
		return nil, &wsmanager.CloseError{Code: int(binary.BigEndian.Uint16(payload)), Reason: string(payload[2:])}
	}
	return payload, nil
}

func (c *frameConn) Write(ctx context.Context, msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	return writeFrame(c.nc, frameMessage, msg)
}

func (c *frameConn) Close(code int, reason string) error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		c.wmu.Lock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_ = writeFrame(c.nc, frameClose, closePayload(code, reason))
		c.wmu.Unlock()
		err = c.nc.Close()
	})
	return err
}

// frameUpgrader hijacks requests that ask for "Upgrade: frames".
type frameUpgrader struct {
	mu       sync.Mutex
	upgrades int
}

func (u *frameUpgrader) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.upgrades
}

func (u *frameUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	if r.Header.Get("Upgrade") != "frames" {
		http.Error(w, "upgrade required", http.StatusUpgradeRequired)
		return nil, errors.New("not an upgrade request")
	}
	nc, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	u.upgrades++
	u.mu.Unlock()
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: frames\r\nConnection: Upgrade\r\n"
	var offered []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			offered = append(offered, strings.TrimSpace(p))
		}
	}
	if subprotocol != "" && slices.Contains(offered, subprotocol) {
		resp += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n"
	}
	if _, err := nc.Write([]byte(resp + "\r\n")); err != nil {
		nc.Close()
		return nil, err
	}
	return &frameConn{nc: nc, br: rw.Reader}, nil
}

// frameClient is the client side of one request.
type frameClient struct {
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// dialFrames sends a GET to url's host with the extra header lines and
// returns the response; on 101 the connection carries frames.
func dialFrames(t *testing.T, addr, path string, header http.Header) *frameClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	req.Header.Set("Upgrade", "frames")
	req.Header.Set("Connection", "Upgrade")
	if err := req.Write(nc); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
	}
	return &frameClient{nc: nc, br: br, resp: resp}
}

func (c *frameClient) send(t *testing.T, msg string) {
	t.Helper()
	if err := writeFrame(c.nc, frameMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// next returns the next message, or "close <code> <reason>".
func (c *frameClient) next(t *testing.T) string {
	t.Helper()
	kind, payload, err := readFrame(c.br)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	if kind == frameClose {
		return fmt.Sprintf("close %d %s", binary.BigEndian.Uint16(payload), payload[2:])
	}
	return string(payload)
}

func (c *frameClient) close(t *testing.T) {
	t.Helper()
	if err := writeFrame(c.nc, frameClose, closePayload(1000, "")); err != nil {
		t.Fatal(err)
	}
}
