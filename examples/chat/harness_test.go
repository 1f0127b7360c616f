package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

// testTimeout bounds every wait on the network, so a regression fails
// instead of hanging.
const testTimeout = 15 * time.Second

// service is a chat service running in the test on a loopback port.
type service struct {
	base   string // http://127.0.0.1:port
	stop   context.CancelFunc
	done   chan error
	client *http.Client
	logs   *testlog.Buffer // what the service logged, at LOG_LEVEL

	once    sync.Once
	stopErr error
}

// start runs the real service (runWith, as main does) with vars as its
// whole environment and stops it when the test ends.
func start(t testing.TB, vars map[string]string, h hooks) *service {
	t.Helper()
	// Without a drain, unless a test asks for one: most tests check the
	// 1001 of the shutdown that follows it.
	all := map[string]string{"CHAT_ADDR": "127.0.0.1:0", "CHAT_DRAIN": "0s"}
	for k, v := range vars {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{stop: cancel, done: make(chan error, 1), client: &http.Client{Timeout: testTimeout}, logs: &testlog.Buffer{}}
	ready := make(chan net.Addr, 1)
	go func() { s.done <- runWith(ctx, env.Map(all), s.logs, func(a net.Addr) { ready <- a }, h) }()
	select {
	case a := <-ready:
		s.base = "http://" + a.String()
	case err := <-s.done:
		cancel()
		t.Fatalf("service did not start: %v", err)
	case <-time.After(testTimeout):
		cancel()
		t.Fatal("service did not start in time")
	}
	t.Cleanup(func() {
		if err := s.shutdown(t); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		s.client.CloseIdleConnections()
	})
	return s
}

// shutdown stops the service as SIGINT would and returns run's error. Later
// calls return the same error.
func (s *service) shutdown(t testing.TB) error {
	t.Helper()
	s.once.Do(func() {
		s.stop()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(testTimeout):
			s.stopErr = errors.New("service did not stop in time")
		}
	})
	return s.stopErr
}

// login gets a development token for user.
func (s *service) login(t testing.TB, user string) string {
	t.Helper()
	resp, err := s.client.Post(s.base+"/dev/login", "application/json", strings.NewReader(`{"user":"`+user+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body loginResponse
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: status %d, %v", user, resp.StatusCode, err)
	}
	return body.Token
}

// wsURL is the WebSocket URL of room.
func (s *service) wsURL(room string) string {
	u := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
	if room != "" {
		u += "?room=" + room
	}
	return u
}

// dial opens a WebSocket to room with token in the Authorization header.
// It returns the response for handshakes the server refused.
func (s *service) dial(t testing.TB, room, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return s.dialWith(t, room, &websocket.DialOptions{HTTPHeader: h})
}

// dialBrowserStyle sends the token the way browsers must: as a subprotocol.
func (s *service) dialBrowserStyle(t testing.TB, room, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	return s.dialWith(t, room, &websocket.DialOptions{
		Subprotocols: []string{subprotocol, "bearer." + base64.RawURLEncoding.EncodeToString([]byte(token))},
	})
}

func (s *service) dialWith(t testing.TB, room string, opts *websocket.DialOptions, query ...string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	u := s.wsURL(room)
	for _, q := range query {
		if strings.Contains(u, "?") {
			u += "&" + q
		} else {
			u += "?" + q
		}
	}
	c, resp, err := websocket.Dial(ctx, u, opts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if c != nil {
		c.SetReadLimit(-1)
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

// connect logs user in and opens a WebSocket to room.
func (s *service) connect(t testing.TB, user, room string) *websocket.Conn {
	t.Helper()
	c, _, err := s.dial(t, room, s.login(t, user))
	if err != nil {
		t.Fatalf("%s: dial: %v", user, err)
	}
	// Every connection's first message is its welcome.
	if got := next(t, c); got.Type != "welcome" || got.To != user {
		t.Fatalf("%s: first message %+v, want the welcome", user, got)
	}
	return c
}

// get fetches path with an optional bearer token.
func (s *service) get(t testing.TB, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func send(t testing.TB, c *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// next reads the next server message, skipping the reset frames that give
// a connection its position and hiding direct messages' positions (see
// nextFrame for both).
func next(t testing.TB, c *websocket.Conn) outbound {
	t.Helper()
	for {
		if m := nextFrame(t, c); m.Type != "reset" {
			m.Pos = ""
			return m
		}
	}
}

// nextFrame reads the next server message, whatever it is.
func nextFrame(t testing.TB, c *websocket.Conn) outbound {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m outbound
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("server sent non-JSON %q: %v", b, err)
	}
	m.At = time.Time{} // the only field a test cannot predict
	return m
}

// closeStatus reads until the connection ends and returns the close code
// the server sent, or -1 if the connection ended without a close frame.
func closeStatus(t testing.TB, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		if ctx.Err() != nil {
			t.Fatal("connection still open")
		}
		return -1, ""
	}
}

// healthDoc is the /healthz document as a client reads it: the server's
// response type, with the authenticator's counters left as JSON values.
type healthDoc struct {
	healthResponse
	Auth map[string]any `json:"auth"` // shadows healthResponse.Auth
}

// health returns the service's /healthz document.
func (s *service) health(t testing.TB) healthDoc {
	t.Helper()
	status, body := s.get(t, "/healthz", "")
	if status != http.StatusOK {
		t.Fatalf("/healthz: %d", status)
	}
	var h healthDoc
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}
