package gobwasws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// rawServer accepts connections on a listener of its own and upgrades each
// with UpgradeConn, handing accept's outcome to the test.
type rawServer struct {
	addr    string
	results chan rawResult
}

type rawResult struct {
	conn *gobwasws.Conn
	err  error
}

func newRawServer(t *testing.T, up *gobwasws.Upgrader, accept func(*gobwasws.Request) (string, error)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{addr: ln.Addr().String(), results: make(chan rawResult, 4)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c, err := up.UpgradeConn(nc, accept)
			s.results <- rawResult{c, err}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return s
}

func (s *rawServer) result(t *testing.T) rawResult {
	t.Helper()
	select {
	case r := <-s.results:
		return r
	case <-time.After(wsmanagertest.Timeout):
		t.Fatal("UpgradeConn did not return")
		return rawResult{}
	}
}

// TestUpgradeConnGoldenPath: over a listener no http.Server serves, the
// zero-copy upgrade hands accept the request's token (from a subprotocol,
// as a browser sends it), auth.Unified authenticates it, the Factory
// reserves the connection before the 101 is written, and the connection is
// served: messages both ways, the non-secret subprotocol echoed and the
// token's never, a clean client close recorded as one.
func TestUpgradeConnGoldenPath(t *testing.T) {
	t.Parallel()
	ctx := wsmanagertest.Context(t)
	static, err := auth.NewStatic(map[string]auth.Identity{"tok-alice": {UserID: "alice"}}, env.Development)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(static, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = authn.Close(context.Background()) })
	ended := make(chan error, 1)
	f, err := wsmanager.NewFactory(wsmanager.Options{OnDisconnect: func(_ *wsmanager.Connection, err error) { ended <- err }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var res *wsmanager.Reservation
	var seen *gobwasws.Request
	srv := newRawServer(t, up, func(req *gobwasws.Request) (string, error) {
		seen = req
		hr, err := req.HTTP(ctx)
		if err != nil {
			return "", err
		}
		tok, _, proto, err := auth.Extractor{}.TokenProtocol(hr)
		if err != nil {
			return "", gobwasws.Reject(http.StatusUnauthorized, nil)
		}
		id, err := authn.Authenticate(ctx, tok)
		if err != nil {
			return "", gobwasws.Reject(auth.HTTPStatus(err), http.Header{"Www-Authenticate": {"Bearer"}})
		}
		if res, err = f.Reserve(ctx, wsmanager.UserContext{UserID: id.UserID, ThreadID: hr.URL.Query().Get("thread")}); err != nil {
			return "", err
		}
		return proto, nil
	})
	client, _, err := websocket.Dial(ctx, "ws://"+srv.addr+"/ws?thread=t1", &websocket.DialOptions{
		Subprotocols: []string{"chat.v1", auth.SubprotocolToken("", "tok-alice")},
		HTTPHeader:   http.Header{"X-Not-Kept": {"x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	r := srv.result(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if client.Subprotocol() != "chat.v1" || r.conn.Subprotocol() != "chat.v1" {
		t.Errorf("subprotocol %q (client), %q (server); want chat.v1", client.Subprotocol(), r.conn.Subprotocol())
	}
	if seen.URI != "/ws?thread=t1" || seen.Host != srv.addr || seen.Header.Get("X-Not-Kept") != "" || len(seen.Header.Values("Sec-WebSocket-Protocol")) == 0 {
		t.Errorf("request %+v", seen)
	}
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, append([]byte("echo "), msg...))
	})
	if err := res.Go(r.conn, echo); err != nil {
		t.Fatal(err)
	}
	if n, err := f.SendToUser(ctx, "alice", []byte("welcome")); n != 1 || err != nil {
		t.Fatalf("SendToUser = %d, %v", n, err)
	}
	if err := client.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"welcome", "echo hi"} {
		if _, msg, err := client.Read(ctx); err != nil || string(msg) != want {
			t.Fatalf("client read %q, %v; want %q", msg, err, want)
		}
	}
	if err := client.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("a clean client close ended the connection with %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the connection did not end")
	}
}

// TestUpgradeConnRefusals: what accept refuses gets the status and headers
// it chose, any other error of accept a bare 500, a foreign origin 403
// before accept is asked; each UpgradeConn returns an error wrapping
// ErrUpgrade (and accept's), and closes the connection.
func TestUpgradeConnRefusals(t *testing.T) {
	t.Parallel()
	errBackend := errors.New("backend said: db password wrong")
	cases := []struct {
		name       string
		origin     string
		acceptErr  error
		status     int
		header     string
		wantAccept bool
	}{
		{"rejected", "", gobwasws.Reject(http.StatusUnauthorized, http.Header{"Www-Authenticate": {"Bearer"}}), http.StatusUnauthorized, "Bearer", true},
		{"limit", "", gobwasws.Reject(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}), http.StatusTooManyRequests, "", true},
		{"other error", "", errBackend, http.StatusInternalServerError, "", true},
		{"foreign origin", "https://evil.test", nil, http.StatusForbidden, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := wsmanagertest.Context(t)
			up, err := gobwasws.NewUpgrader(gobwasws.Options{})
			if err != nil {
				t.Fatal(err)
			}
			asked := false
			srv := newRawServer(t, up, func(*gobwasws.Request) (string, error) {
				asked = true
				if tc.acceptErr == nil {
					return "", nil
				}
				return "", tc.acceptErr
			})
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			_, resp, err := websocket.Dial(ctx, "ws://"+srv.addr+"/ws", &websocket.DialOptions{HTTPHeader: h})
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("Dial = %v, %v; want status %d", resp, err, tc.status)
			}
			if tc.header != "" && resp.Header.Get("Www-Authenticate") != tc.header {
				t.Errorf("WWW-Authenticate %q, want %q", resp.Header.Get("Www-Authenticate"), tc.header)
			}
			if tc.status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", resp.Header.Get("Retry-After"))
			}
			r := srv.result(t)
			if !errors.Is(r.err, gobwasws.ErrUpgrade) || r.conn != nil {
				t.Fatalf("UpgradeConn = %v, %v; want ErrUpgrade", r.conn, r.err)
			}
			if tc.acceptErr != nil && !errors.Is(r.err, tc.acceptErr) {
				t.Errorf("UpgradeConn = %v, want it to wrap %v", r.err, tc.acceptErr)
			}
			if asked != tc.wantAccept {
				t.Errorf("accept called: %v, want %v", asked, tc.wantAccept)
			}
		})
	}
	t.Run("no internals in a 500", func(t *testing.T) {
		t.Parallel()
		up, err := gobwasws.NewUpgrader(gobwasws.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := newRawServer(t, up, func(*gobwasws.Request) (string, error) { return "", errBackend })
		resp, body, _ := rawHandshake(t, srv.addr, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "password") {
			t.Errorf("response %d %q", resp.StatusCode, body)
		}
		srv.result(t)
	})
}

// TestUpgradeConnHandshakeTimeout: a client that never finishes its request
// cannot hold the connection past HandshakeTimeout.
func TestUpgradeConnHandshakeTimeout(t *testing.T) {
	t.Parallel()
	up, err := gobwasws.NewUpgrader(gobwasws.Options{HandshakeTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := newRawServer(t, up, func(*gobwasws.Request) (string, error) {
		t.Error("accept called for an unfinished request")
		return "", nil
	})
	nc, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := srv.result(t)
	if !errors.Is(r.err, gobwasws.ErrUpgrade) {
		t.Fatalf("UpgradeConn = %v, want ErrUpgrade", r.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("UpgradeConn returned after %v", d)
	}
	_ = nc.SetReadDeadline(time.Now().Add(wsmanagertest.Timeout))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Errorf("the server did not close the connection: %v", err)
	}
}

// rawHandshake sends request on a new connection to addr and returns the
// server's response, with its body read unless it is a 101, and the
// connection, which the test's end closes.
func rawHandshake(t *testing.T, addr, request string) (*http.Response, string, net.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(wsmanagertest.Timeout))
	if _, err := io.WriteString(nc, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, "", nc
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nc
}

// TestUpgradeConnRequestLimit: a request over MaxRequestBytes is refused
// with 431 before accept is asked, whatever header carries the bytes.
func TestUpgradeConnRequestLimit(t *testing.T) {
	t.Parallel()
	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newRawServer(t, up, func(*gobwasws.Request) (string, error) {
		t.Error("accept called for a request over the limit")
		return "", nil
	})
	cookie := strings.Repeat("a", gobwasws.MaxRequestBytes)
	resp, _, _ := rawHandshake(t, srv.addr, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: "+cookie+"\r\n\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	if r := srv.result(t); !errors.Is(r.err, gobwasws.ErrUpgrade) {
		t.Errorf("UpgradeConn = %v, want ErrUpgrade", r.err)
	}
}

// TestUpgradeConnSlowAccept: the response has a deadline of its own once
// accept returns, so an accept that takes longer than HandshakeTimeout (an
// authentication round trip) still gets its connection upgraded.
func TestUpgradeConnSlowAccept(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	up, err := gobwasws.NewUpgrader(gobwasws.Options{HandshakeTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	srv := newRawServer(t, up, func(*gobwasws.Request) (string, error) {
		time.Sleep(3 * timeout)
		return "", nil
	})
	ctx := wsmanagertest.Context(t)
	client, _, err := websocket.Dial(ctx, "ws://"+srv.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseNow()
	r := srv.result(t)
	if r.err != nil {
		t.Fatalf("UpgradeConn after a slow accept: %v", r.err)
	}
	_ = client.CloseNow()
	_ = r.conn.Close(1000, "")
}

// TestUpgradeConnProtocolLines: offers on several header lines, in any
// case, all reach accept, the Authorization header under its canonical
// name, and the one offer accept picks is echoed once.
func TestUpgradeConnProtocolLines(t *testing.T) {
	t.Parallel()
	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var offers []string
	var authz string
	srv := newRawServer(t, up, func(r *gobwasws.Request) (string, error) {
		offers = r.Header.Values("Sec-WebSocket-Protocol")
		authz = r.Header.Get("Authorization")
		return "c", nil
	})
	resp, _, nc := rawHandshake(t, srv.addr, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a\r\nsec-websocket-protocol: b, c\r\nauthorization: Bearer x\r\n\r\n")
	r := srv.result(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if fmt.Sprint(offers) != "[a b, c]" || authz != "Bearer x" {
		t.Errorf("accept saw offers %q and Authorization %q", offers, authz)
	}
	if got := resp.Header.Values("Sec-WebSocket-Protocol"); resp.StatusCode != http.StatusSwitchingProtocols || fmt.Sprint(got) != "[c]" {
		t.Errorf("response %d echoing %q: want a 101 echoing c once", resp.StatusCode, got)
	}
	_ = nc.Close() // first, so that Close does not wait for an answer
	_ = r.conn.Close(1001, "")
}
