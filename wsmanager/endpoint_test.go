package wsmanager_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// testBackend accepts the token "alice" and "bob", rejects others, and is
// down for "down".
func testBackend() auth.Authenticator {
	return auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		switch token {
		case "alice", "bob":
			return auth.Identity{UserID: token}, nil
		case "down":
			return auth.Identity{}, errors.New("introspection endpoint unreachable")
		}
		return auth.Identity{}, auth.ErrInvalidToken
	})
}

// whoami answers "whoami" with the authenticated user and the thread.
func whoami() wsmanager.Handler {
	return wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		id, ok := wsmanager.IdentityFrom(ctx)
		if !ok {
			return errors.New("no identity")
		}
		return c.Send(ctx, []byte(id.UserID+"/"+c.User().ThreadID+": "+string(msg)))
	})
}

type endpointTest struct {
	h    *harness
	up   *frameUpgrader
	addr string
}

func newEndpointTest(t *testing.T, fopts wsmanager.Options, eopts wsmanager.EndpointOptions) *endpointTest {
	t.Helper()
	return newEndpointTestWith(t, fopts, eopts, nil)
}

// newEndpointTestWith is newEndpointTest with the frame upgrader wrapped by
// wrap, if not nil.
func newEndpointTestWith(t *testing.T, fopts wsmanager.Options, eopts wsmanager.EndpointOptions, wrap func(wsmanager.Upgrader) wsmanager.Upgrader) *endpointTest {
	t.Helper()
	h := newHarness(t, fopts)
	a, err := auth.New(testBackend(), auth.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	up := &frameUpgrader{}
	if eopts.Thread == nil {
		eopts.Thread = func(r *http.Request) string { return r.URL.Query().Get("thread") }
	}
	var eu wsmanager.Upgrader = up
	if wrap != nil {
		eu = wrap(up)
	}
	ep, err := wsmanager.NewEndpoint(h.f, a, eu, whoami(), eopts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	// Registered after the harness's cleanup, so it runs first: the
	// server's hijacked connections are the factory's to close.
	t.Cleanup(srv.Close)
	return &endpointTest{h: h, up: up, addr: strings.TrimPrefix(srv.URL, "http://")}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func TestEndpointServes(t *testing.T) {
	t.Parallel()
	for _, detach := range []bool{false, true} {
		t.Run(fmt.Sprintf("detach %v", detach), func(t *testing.T) {
			t.Parallel()
			testEndpointServes(t, detach)
		})
	}
}

func testEndpointServes(t *testing.T, detach bool) {
	e := newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{Subprotocol: "chat.v1", Detach: detach})
	hdr := bearer("alice")
	hdr.Set("Sec-WebSocket-Protocol", "chat.v1, other")
	c := dialFrames(t, e.addr, "/ws?thread=t1", hdr)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v1" {
		t.Errorf("subprotocol %q, want chat.v1", got)
	}
	c.send(t, "hello")
	if got := c.next(t); got != "alice/t1: hello" {
		t.Errorf("reply %q, want %q", got, "alice/t1: hello")
	}
	if n, err := e.h.f.SendToUser(context.Background(), "alice", []byte("push")); n != 1 || err != nil {
		t.Errorf("SendToUser = %d, %v; want 1, nil", n, err)
	}
	if got := c.next(t); got != "push" {
		t.Errorf("pushed %q, want push", got)
	}
	c.close(t)
	if got := c.next(t); got != "close 1000 " {
		t.Errorf("after the client's close got %q, want the close answered with 1000", got)
	}
}

// TestEndpointSubprotocolToken authenticates a browser-style request, whose
// token travels as a subprotocol, and checks that the handshake echoes the
// application's subprotocol and never the one carrying the token.
func TestEndpointSubprotocolToken(t *testing.T) {
	t.Parallel()
	e := newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{Subprotocol: "chat.v1"})
	tokenProto := "bearer." + base64.RawURLEncoding.EncodeToString([]byte("alice"))
	hdr := http.Header{"Sec-Websocket-Protocol": {tokenProto + ", chat.v1"}}
	c := dialFrames(t, e.addr, "/ws?thread=t2", hdr)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	if got := c.resp.Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != "chat.v1" {
		t.Errorf("subprotocols echoed %q, want only chat.v1", got)
	}
	c.send(t, "hi")
	if got := c.next(t); got != "alice/t2: hi" {
		t.Errorf("reply %q, want %q", got, "alice/t2: hi")
	}
}

func TestEndpointRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		eopts      wsmanager.EndpointOptions
		header     http.Header
		path       string
		wantStatus int
		wantClose  string // after a 101: the close frame
	}{
		{name: "no token", header: http.Header{}, wantStatus: http.StatusUnauthorized},
		{name: "rejected token", header: bearer("mallory"), wantStatus: http.StatusUnauthorized},
		{name: "backend down", header: bearer("down"), wantStatus: http.StatusServiceUnavailable},
		{name: "invalid thread", header: bearer("alice"), path: "?thread=%0A", wantStatus: http.StatusBadRequest},
		{
			name: "subprotocol not offered", eopts: wsmanager.EndpointOptions{Subprotocol: "chat.v1", RequireSubprotocol: true},
			header: bearer("alice"), wantStatus: http.StatusBadRequest,
		},
		{
			name: "subprotocol not offered, close after upgrade", eopts: wsmanager.EndpointOptions{Subprotocol: "chat.v1", RequireSubprotocol: true, CloseAfterUpgrade: true},
			header: bearer("alice"), wantStatus: http.StatusBadRequest,
		},
		{
			name: "rejected token, close after upgrade", eopts: wsmanager.EndpointOptions{CloseAfterUpgrade: true},
			header: bearer("mallory"), wantStatus: http.StatusSwitchingProtocols, wantClose: "close 1008 unauthorized",
		},
		{
			name: "backend down, close after upgrade", eopts: wsmanager.EndpointOptions{CloseAfterUpgrade: true},
			header: bearer("down"), wantStatus: http.StatusSwitchingProtocols, wantClose: "close 1013 try again later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEndpointTest(t, wsmanager.Options{}, tt.eopts)
			c := dialFrames(t, e.addr, "/ws"+tt.path, tt.header)
			if c.resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", c.resp.StatusCode, tt.wantStatus)
			}
			if tt.wantClose == "" {
				if n := e.up.count(); n != 0 {
					t.Errorf("%d upgrades for a refused request, want 0", n)
				}
				if tt.wantStatus == http.StatusUnauthorized && c.resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				return
			}
			if got := c.next(t); got != tt.wantClose {
				t.Errorf("got %q, want %q", got, tt.wantClose)
			}
			if st := e.h.f.Stats(); st.ConnsCreated != 0 {
				t.Errorf("%d connections served for a refused request, want 0", st.ConnsCreated)
			}
		})
	}
}

func TestNewEndpointRequiresArguments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	a, err := auth.New(testBackend(), auth.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	up := &frameUpgrader{}
	tests := []struct {
		name string
		f    *wsmanager.Factory
		a    *auth.Unified
		up   wsmanager.Upgrader
		h    wsmanager.Handler
	}{
		{"nil factory", nil, a, up, echo()},
		{"nil authenticator", h.f, nil, up, echo()},
		{"nil upgrader", h.f, a, nil, echo()},
		{"nil handler", h.f, a, up, nil},
		{"required subprotocol without one", h.f, a, up, echo()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := wsmanager.NewEndpoint(tt.f, tt.a, tt.up, tt.h, wsmanager.EndpointOptions{RequireSubprotocol: tt.h != nil && tt.up != nil && tt.a != nil && tt.f != nil}); !errors.Is(err, wsmanager.ErrInvalidOptions) {
				t.Errorf("NewEndpoint = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

// holdUpgrader completes the handshake, then holds the endpoint until
// released: the client already has its 101 and can act on it.
type holdUpgrader struct {
	up      wsmanager.Upgrader
	release chan struct{}
}

func (u holdUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	c, err := u.up.Upgrade(w, r, subprotocol)
	<-u.release
	return c, err
}

// TestEndpointReachableOnceHandshakeCompletes: the endpoint registers the
// connection before upgrading, so a message sent to the user the moment the
// client has the 101 is queued for the new connection and delivered first,
// however long the server takes to get from the upgrade to Serve.
func TestEndpointReachableOnceHandshakeCompletes(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := newEndpointTestWith(t, wsmanager.Options{}, wsmanager.EndpointOptions{}, func(up wsmanager.Upgrader) wsmanager.Upgrader {
		return holdUpgrader{up: up, release: release}
	})
	c := dialFrames(t, e.addr, "/ws?thread=t1", bearer("bob"))
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		close(release)
		t.Fatalf("status %d, want 101", c.resp.StatusCode)
	}
	m, err := e.h.f.Manager(wsmanager.UserContext{UserID: "bob", ThreadID: "t1"})
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	n, err := m.Send(context.Background(), []byte("sent right after the handshake"))
	close(release)
	if n != 1 || err != nil {
		t.Fatalf("Send = %d, %v; want the new connection to be reachable", n, err)
	}
	if got := c.next(t); got != "sent right after the handshake" {
		t.Errorf("first message %q", got)
	}
	c.send(t, "hello")
	if got := c.next(t); got != "bob/t1: hello" {
		t.Errorf("reply %q", got)
	}
}

// TestEndpointFailedUpgradeReleasesReservation: a request that authenticates
// but cannot be upgraded leaves no connection behind, and its machine ends
// in Failed.
func TestEndpointFailedUpgradeReleasesReservation(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		states []statemachine.ConnState
	)
	e := newEndpointTest(t, wsmanager.Options{OnConnect: func(c *wsmanager.Connection) {
		c.Machine().OnTransition(func(tr statemachine.Transition[statemachine.ConnState]) {
			mu.Lock()
			states = append(states, tr.To)
			mu.Unlock()
		})
	}}, wsmanager.EndpointOptions{})
	req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+"/ws?thread=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = bearer("bob") // authenticated, but not an upgrade request
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %d, want the upgrader's 426", resp.StatusCode)
	}
	// The handler returns, and the response is sent, only after the
	// reservation is released.
	st := e.h.f.Stats()
	if st.ConnsActive != 0 || st.ConnsCreated != 1 || st.ConnsRemoved != 1 {
		t.Errorf("stats %+v, want one connection created and removed", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]statemachine.ConnState{statemachine.Closing, statemachine.Failed}, states); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
}

// TestEndpointLimits: a user at MaxManagersPerUser, or a thread at
// MaxConnsPerManager, is refused before any upgrade with 429, a factory at
// MaxManagers or MaxConns with 503; with CloseAfterUpgrade each is reported
// after the upgrade as close 1013, which a browser can read. Other users
// and threads are not affected by a user's or a thread's limit.
func TestEndpointLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       wsmanager.Options
		refused    string // path bob is refused on, after connecting to ?thread=a
		wantStatus int
		wantClose  string
		otherPath  string // "": the factory refuses everyone
		otherToken string
	}{
		{"user limit", wsmanager.Options{MaxManagersPerUser: 1}, "/ws?thread=b", http.StatusTooManyRequests, "close 1013 too many threads", "/ws?thread=b", "alice"},
		{"connection limit", wsmanager.Options{MaxConnsPerManager: 1}, "/ws?thread=a", http.StatusTooManyRequests, "close 1013 too many connections", "/ws?thread=b", "bob"},
		{"factory manager limit", wsmanager.Options{MaxManagers: 1}, "/ws?thread=b", http.StatusServiceUnavailable, "close 1013 server at capacity", "", ""},
		{"factory connection limit", wsmanager.Options{MaxConns: 1}, "/ws?thread=a", http.StatusServiceUnavailable, "close 1013 server at capacity", "", ""},
	}
	for _, tt := range tests {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/close after upgrade %v", tt.name, after), func(t *testing.T) {
				t.Parallel()
				e := newEndpointTest(t, tt.opts, wsmanager.EndpointOptions{CloseAfterUpgrade: after})
				first := dialFrames(t, e.addr, "/ws?thread=a", bearer("bob"))
				if first.resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d, want 101", first.resp.StatusCode)
				}
				second := dialFrames(t, e.addr, tt.refused, bearer("bob"))
				if !after {
					if second.resp.StatusCode != tt.wantStatus {
						t.Errorf("over the limit: status %d, want %d", second.resp.StatusCode, tt.wantStatus)
					}
					if n := e.up.count(); n != 1 {
						t.Errorf("%d upgrades, want 1", n)
					}
				} else if got := second.next(t); got != tt.wantClose {
					t.Errorf("over the limit: got %q, want %q", got, tt.wantClose)
				}
				if tt.otherPath == "" {
					return
				}
				other := dialFrames(t, e.addr, tt.otherPath, bearer(tt.otherToken))
				if other.resp.StatusCode != http.StatusSwitchingProtocols {
					t.Errorf("%s on %s: status %d, want 101", tt.otherToken, tt.otherPath, other.resp.StatusCode)
				}
			})
		}
	}
}

// panicUpgrader is a broken adapter that panics.
type panicUpgrader struct{}

func (panicUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	panic("upgrader bug")
}

// TestEndpointUpgraderPanics: a panicking Upgrader releases its
// reservation (the user is not left at the connection limit, and
// Factory.Close completes), and the panic reaches net/http, whose recovery
// closes that request.
func TestEndpointUpgraderPanics(t *testing.T) {
	t.Parallel()
	e := newEndpointTestWith(t, wsmanager.Options{MaxConnsPerManager: 1}, wsmanager.EndpointOptions{}, func(wsmanager.Upgrader) wsmanager.Upgrader {
		return panicUpgrader{}
	})
	for range 3 {
		req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = bearer("bob")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("status %d: the panic did not reach net/http", resp.StatusCode)
		}
		if st := e.h.f.Stats(); st.ConnsActive != 0 || st.ConnLimitHits != 0 {
			t.Fatalf("after a panicking upgrade: %d connections registered, %d limit hits; want 0, 0", st.ConnsActive, st.ConnLimitHits)
		}
	}
}

// TestEndpointTokenExpiry: a connection whose identity has an ExpiresAt is
// closed with 1008 "token expired" when it passes, not before, and is then
// unreachable; a connection without one stays open.
func TestEndpointTokenExpiry(t *testing.T) {
	t.Parallel()
	for _, detach := range []bool{false, true} {
		t.Run(fmt.Sprintf("detach %v", detach), func(t *testing.T) {
			t.Parallel()
			testEndpointTokenExpiry(t, detach)
		})
	}
}

func testEndpointTokenExpiry(t *testing.T, detach bool) {
	synctest.Test(t, func(t *testing.T) {
		const lifetime = time.Hour
		expires := time.Now().Add(lifetime)
		backend := auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
			id := auth.Identity{UserID: token}
			if token == "short" {
				id.ExpiresAt = expires
			}
			return id, nil
		})
		a, err := auth.New(backend, auth.Options{Logger: quietLogger(), CacheTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close(context.Background())
		h := newHarness(t, wsmanager.Options{})
		up := &memUpgrader{peers: make(chan *memconn.Conn, 2)}
		ep, err := wsmanager.NewEndpoint(h.f, a, up, echo(), wsmanager.EndpointOptions{Detach: detach})
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{}, 2)
		for _, token := range []string{"short", "long"} {
			req := httptest.NewRequest(http.MethodGet, "/ws", nil)
			req.Header = bearer(token)
			go func() {
				ep.ServeHTTP(httptest.NewRecorder(), req)
				served <- struct{}{}
			}()
		}
		<-up.peers
		<-up.peers
		synctest.Wait()
		if detach {
			// ServeHTTP returned, the connections serve on.
			<-served
			<-served
		}
		short, long := peerOfUser(t, h.f, "short"), peerOfUser(t, h.f, "long")
		time.Sleep(lifetime - time.Nanosecond)
		synctest.Wait()
		_, _, c1 := short.Closed()
		_, _, c2 := long.Closed()
		if c1 || c2 {
			t.Fatal("a connection closed before its identity expired")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if code, reason, closed := short.Closed(); !closed || code != 1008 || reason != "token expired" {
			t.Errorf("closed %v with %d %q, want 1008 %q", closed, code, reason, "token expired")
		}
		if n, _ := h.f.SendToUser(context.Background(), "short", []byte("x")); n != 0 {
			t.Errorf("SendToUser reached %d connections of an expired identity", n)
		}
		if _, _, closed := long.Closed(); closed {
			t.Error("the connection without an expiry closed")
		}
		if !detach {
			<-served
		}
		synctest.Wait()
		if st := h.f.Stats(); st.ExpiredCloses != 1 || st.ConnsActive != 1 {
			t.Errorf("ExpiredCloses %d, ConnsActive %d; want 1, 1", st.ExpiredCloses, st.ConnsActive)
		}
		long.PeerCloseCode(1000, "")
		if !detach {
			<-served
		}
		synctest.Wait()
		if st := h.f.Stats(); st.ConnsActive != 0 {
			t.Errorf("ConnsActive %d after both ended", st.ConnsActive)
		}
	})
}

// peerOfUser returns the in-memory transport of the one connection of
// userID.
func peerOfUser(t *testing.T, f *wsmanager.Factory, userID string) *memconn.Conn {
	t.Helper()
	m, ok := f.Lookup(wsmanager.UserContext{UserID: userID})
	if !ok || len(m.Connections()) != 1 {
		t.Fatalf("%s has no connection", userID)
	}
	return peerOf(wsmanager.ConnOf(m.Connections()[0]))
}

// memUpgrader hands out in-memory transports, so that an endpoint can run
// inside a synctest bubble.
type memUpgrader struct{ peers chan *memconn.Conn }

func (u *memUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	p := memconn.New(memconn.Options{})
	u.peers <- p
	return p, nil
}

// nilUpgrader is a broken adapter: it reports success with no Conn.
type nilUpgrader struct{}

func (nilUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	return nil, nil
}

// TestEndpointSurvivesAnUpgraderWithoutConn: an adapter that returns
// neither a Conn nor an error is treated as a failed upgrade, not a crash,
// on the authenticated path and on CloseAfterUpgrade's refusal path.
func TestEndpointSurvivesAnUpgraderWithoutConn(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"bob", "mallory"} {
		e := newEndpointTestWith(t, wsmanager.Options{}, wsmanager.EndpointOptions{CloseAfterUpgrade: true}, func(wsmanager.Upgrader) wsmanager.Upgrader {
			return nilUpgrader{}
		})
		req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = bearer(token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if st := e.h.f.Stats(); st.ConnsActive != 0 {
			t.Errorf("token %q: %d connections left registered", token, st.ConnsActive)
		}
	}
}

// TestEndpointTokenSubprotocolPaths: a client that offers its token as a
// subprotocol alone gets a 400 that says what to add; without
// EndpointOptions.Subprotocol, a client offering a protocol beside its
// token gets that protocol echoed, as browsers and Node's ws require.
func TestEndpointTokenSubprotocolPaths(t *testing.T) {
	t.Parallel()
	tokenProto := "bearer." + base64.RawURLEncoding.EncodeToString([]byte("alice"))

	e := newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{Subprotocol: "chat.v1"})
	req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Websocket-Protocol", tokenProto)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "offer the subprotocol chat.v1 beside it") {
		t.Errorf("token alone: status %d, body %q; want 400 naming chat.v1", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "alice") {
		t.Errorf("the refusal shows the token: %q", body)
	}

	e = newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{})
	c := dialFrames(t, e.addr, "/ws", http.Header{"Sec-Websocket-Protocol": {tokenProto + ", chat.v1"}})
	if c.resp.StatusCode != http.StatusSwitchingProtocols || c.resp.Header.Get("Sec-WebSocket-Protocol") != "chat.v1" {
		t.Errorf("no Subprotocol set: status %d, protocol %q; want 101 echoing chat.v1", c.resp.StatusCode, c.resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	c.close(t)
}
