package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/jwtauth"
)

func TestTwoUsersChat(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "")
	bob := s.connect(t, "bob", "lobby")

	send(t, alice, inbound{Type: "say", Text: "hello, room"})
	want := outbound{Type: "message", Room: "lobby", From: "alice", Text: "hello, room"}
	for name, c := range map[string]*websocket.Conn{"alice": alice, "bob": bob} {
		if diff := cmp.Diff(want, next(t, c)); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", name, diff)
		}
	}

	send(t, bob, inbound{Type: "dm", To: "alice", Text: "psst"})
	want = outbound{Type: "dm", From: "bob", To: "alice", Text: "psst"}
	for name, c := range map[string]*websocket.Conn{"alice": alice, "bob (echo)": bob} {
		if diff := cmp.Diff(want, next(t, c)); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", name, diff)
		}
	}
}

// TestThirdUserNeverSeesDirectMessages relies on per-connection ordering:
// carol's queue is first in, first out, so if the direct message had reached
// her it would arrive before the room message sent after it.
// TestReconnectGetsMissedDirectMessages: a tab that reconnects with the
// position of the last direct message it showed gets every direct message
// sent to its user meanwhile, once and in order, before anything new; a
// tab whose position the server no longer holds gets a reset instead.
func TestReconnectGetsMissedDirectMessages(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"CHAT_HISTORY": "3"}, hooks{})
	alice := s.connect(t, "alice", "")
	bobToken := s.login(t, "bob")
	bob, _, err := s.dial(t, "", bobToken)
	if err != nil {
		t.Fatal(err)
	}
	first := nextFrame(t, bob)
	if first.Type != "reset" || first.Pos == "" {
		t.Fatalf("bob's first message %+v, want a reset with his position", first)
	}
	if got := next(t, bob); got.Type != "welcome" {
		t.Fatalf("then %+v, want the welcome", got)
	}
	send(t, alice, inbound{Type: "dm", To: "bob", Text: "before"})
	seen := nextFrame(t, bob)
	if seen.Type != "dm" || seen.Text != "before" || seen.Pos == "" {
		t.Fatalf("bob got %+v, want the direct message with its position", seen)
	}
	next(t, alice) // the echo
	if err := bob.Close(websocket.StatusGoingAway, "tab closed"); err != nil {
		t.Fatal(err)
	}
	// bob is away: his direct messages are kept, and alice is told he is
	// not online.
	for _, text := range []string{"one", "two", "three"} {
		send(t, alice, inbound{Type: "dm", To: "bob", Text: text})
		if got := next(t, alice); got.Type != "error" {
			t.Fatalf("alice got %+v, want the recipient-not-online error", got)
		}
	}
	resumed, _, err := s.dialWith(t, "", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + bobToken}}}, "resume="+seen.Pos)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 3 {
		m := nextFrame(t, resumed)
		if m.Type == "reset" {
			t.Fatalf("a resume from a kept position got a reset: %+v", m)
		}
		if m.Type == "dm" {
			got = append(got, m.Text)
		}
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, got); diff != "" {
		t.Errorf("bob got on resume (-want +got):\n%s", diff)
	}
	// A position that is no longer kept (CHAT_HISTORY is 3) gets a reset.
	stale, _, err := s.dialWith(t, "", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + bobToken}}}, "resume="+first.Pos)
	if err != nil {
		t.Fatal(err)
	}
	if m := nextFrame(t, stale); m.Type != "reset" {
		t.Errorf("a stale position got %+v, want a reset", m)
	}
}

func TestThirdUserNeverSeesDirectMessages(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "lobby")
	bob := s.connect(t, "bob", "lobby")
	carol := s.connect(t, "carol", "lobby")
	carolElsewhere := s.connect(t, "carol", "random")

	send(t, alice, inbound{Type: "dm", To: "bob", Text: "for bob only"})
	if got := next(t, bob); got.Type != "dm" || got.Text != "for bob only" {
		t.Fatalf("bob received %+v, want the direct message", got)
	}
	if got := next(t, alice); got.Type != "dm" {
		t.Fatalf("alice received %+v, want her own direct message back", got)
	}
	send(t, alice, inbound{Type: "say", Text: "marker"})
	if got := next(t, carol); got.Type != "message" || got.Text != "marker" {
		t.Errorf("carol's first message is %+v, want the room marker: she saw the direct message", got)
	}
	// carol's other room gets neither the DM nor the lobby's marker: a
	// message sent there afterwards is the first thing it sees.
	send(t, carolElsewhere, inbound{Type: "say", Text: "random marker"})
	if got := next(t, carolElsewhere); got.Text != "random marker" {
		t.Errorf("carol's other room first received %+v", got)
	}
}

func TestSenderCannotBeSpoofed(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "")
	if err := alice.Write(t.Context(), websocket.MessageText, []byte(`{"type":"say","from":"bob","text":"it was bob"}`)); err != nil {
		t.Fatal(err)
	}
	if got := next(t, alice); got.From != "alice" {
		t.Errorf("message claims to be from %q, want alice", got.From)
	}
}

func TestBadMessagesGetErrorsNotDisconnects(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "")
	for _, raw := range []string{
		`not json`,
		`{"type":"say","text":""}`,
		`{"type":"shout","text":"hi"}`,
		`{"type":"dm","text":"to nobody"}`,
		`{"type":"dm","to":"ghost","text":"anyone?"}`,
		`{"type":"say","text":"` + strings.Repeat("x", maxText+1) + `"}`,
	} {
		if err := alice.Write(t.Context(), websocket.MessageText, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if got := next(t, alice); got.Type != "error" || got.Error == "" {
			t.Errorf("reply to %.30q: %+v, want an error message", raw, got)
		}
	}
	send(t, alice, inbound{Type: "say", Text: "still here"})
	if got := next(t, alice); got.Text != "still here" {
		t.Errorf("after errors: %+v", got)
	}
}

func TestBrowserStyleSubprotocolToken(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	c, _, err := s.dialBrowserStyle(t, "lobby", s.login(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Subprotocol(); got != subprotocol {
		t.Errorf("negotiated %q, want %q (the token must never be echoed)", got, subprotocol)
	}
	if got := next(t, c); got.Type != "welcome" || got.To != "alice" || got.Room != "lobby" {
		t.Fatalf("first message %+v, want alice's welcome to the lobby", got)
	}
	send(t, c, inbound{Type: "say", Text: "hi"})
	if got := next(t, c); got.From != "alice" {
		t.Errorf("got %+v", got)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	otherSigner, err := jwtauth.NewSigner([]byte(strings.Repeat("o", 32)), jwtauth.SignerOptions{Audience: "ssot-chat"})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := otherSigner.Sign(auth.Identity{UserID: "alice"}, time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	down := hooks{backend: func(auth.Authenticator) auth.Authenticator {
		return auth.Func(func(context.Context, string) (auth.Identity, error) {
			return auth.Identity{}, errors.New("connection refused")
		})
	}}
	tests := []struct {
		name       string
		closeAfter string
		h          hooks
		token      string // "" for none, "login" for a valid one
		wantStatus int    // refused before the upgrade
		wantClose  websocket.StatusCode
	}{
		{name: "no token", closeAfter: "false", wantStatus: http.StatusUnauthorized},
		{name: "forged token", closeAfter: "false", token: forged, wantStatus: http.StatusUnauthorized},
		{name: "no token, close after upgrade", closeAfter: "true", wantClose: websocket.StatusPolicyViolation},
		{name: "forged token, close after upgrade", closeAfter: "true", token: forged, wantClose: websocket.StatusPolicyViolation},
		{name: "garbage token, close after upgrade", closeAfter: "true", token: "garbage", wantClose: websocket.StatusPolicyViolation},
		{name: "auth backend down", closeAfter: "false", h: down, token: forged, wantStatus: http.StatusServiceUnavailable},
		{name: "auth backend down, close after upgrade", closeAfter: "true", h: down, token: forged, wantClose: websocket.StatusTryAgainLater},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, map[string]string{"CHAT_CLOSE_AFTER_UPGRADE": tt.closeAfter}, tt.h)
			c, resp, err := s.dial(t, "lobby", tt.token)
			if tt.wantStatus != 0 {
				if err == nil {
					t.Fatal("handshake succeeded, want it refused")
				}
				if resp == nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("refused with %v, want %d", resp, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v (want an upgrade, then a close)", err)
			}
			if code, _ := closeStatus(t, c); code != tt.wantClose {
				t.Errorf("closed with %d, want %d", code, tt.wantClose)
			}
		})
	}
}

func TestInvalidRoom(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	_, resp, err := s.dial(t, "No%20Such%20Room", s.login(t, "alice"))
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dial to an invalid room: %v, %v; want 400", resp, err)
	}
}

// TestSlowClientIsClosed: a client that stops reading fills its socket and
// its queue and is closed as slow, while everybody else keeps receiving
// every message.
func TestSlowClientIsClosed(t *testing.T) {
	t.Parallel()
	// No read rate: alice talks as fast as she can, to fill the stuck
	// client's queue.
	s := start(t, map[string]string{"CHAT_QUEUE_SIZE": "64", "CHAT_WRITE_TIMEOUT": "2s", "CHAT_READ_RATE": "0"}, hooks{})
	alice := s.connect(t, "alice", "")
	bob := s.connect(t, "bob", "")
	stuck := s.connect(t, "stuck", "") // reads nothing until the end

	// Readers report progress so the sender can pace itself: a client that
	// reads keeps up, only the stuck one falls behind.
	var mu sync.Mutex
	progress := sync.NewCond(&mu)
	counts := make([]int, 2)
	errs := make(chan error, 2)
	var readers sync.WaitGroup
	for i, c := range []*websocket.Conn{alice, bob} {
		readers.Go(func() {
			defer progress.Broadcast()
			for {
				_, b, err := c.Read(context.Background())
				if err != nil {
					errs <- err
					return
				}
				var m outbound
				if err := json.Unmarshal(b, &m); err != nil {
					errs <- err
					return
				}
				if m.Text == "done" {
					return
				}
				mu.Lock()
				counts[i]++
				mu.Unlock()
				progress.Broadcast()
			}
		})
	}
	caughtUp := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		for (counts[0] < n || counts[1] < n) && len(errs) == 0 {
			progress.Wait()
		}
	}

	// Keep talking until the service gives up on the stuck client; bounded,
	// so a service that never sheds it fails instead of looping.
	text := strings.Repeat("🐢", maxText) // 8 KB per message
	const maxMessages = 4000
	sent := 0
	for sent < maxMessages && len(errs) == 0 {
		send(t, alice, inbound{Type: "say", Text: text})
		sent++
		if sent%32 == 0 {
			caughtUp(sent)
			if s.health(t).Connections.SlowCloses > 0 {
				break
			}
		}
	}
	send(t, alice, inbound{Type: "say", Text: "done"})
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a reading client lost its connection: %v", err)
	}
	if got := s.health(t).Connections.SlowCloses; got != 1 {
		t.Fatalf("after %d messages %d connections were closed as slow, want exactly the stuck one", sent, got)
	}
	for i, name := range []string{"alice", "bob"} {
		if counts[i] != sent {
			t.Errorf("%s received %d of %d messages", name, counts[i], sent)
		}
	}
	// A client whose socket is full cannot be sent a close frame behind a
	// half-written message; the service then drops the connection. Either
	// way the stuck client is gone and learns it when it reads again.
	code, _ := closeStatus(t, stuck)
	t.Logf("sent %d messages; the stuck client saw close %d", sent, code)
	if code != websocket.StatusPolicyViolation && code != -1 {
		t.Errorf("the stuck client was closed with %d, want 1008 (or a dropped connection)", code)
	}
}

func TestShutdownClosesWith1001(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "")
	bob := s.connect(t, "bob", "other")
	send(t, alice, inbound{Type: "say", Text: "before shutdown"})
	next(t, alice) // the service is fully serving both
	done := make(chan error, 1)
	go func() { done <- s.shutdown(t) }()
	for name, c := range map[string]*websocket.Conn{"alice": alice, "bob": bob} {
		if code, _ := closeStatus(t, c); code != websocket.StatusGoingAway {
			t.Errorf("%s closed with %d, want 1001", name, code)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("run returned %v after a clean shutdown", err)
	}
}

// TestBurstIsRefusedAtItsSender: with the default settings, a user who
// sends 1,000 direct messages in a loop is closed with 1008 "rate limited"
// at their own connection, and the recipient, who reads, keeps its
// connection and gets every message the sender was allowed, in order.
func TestBurstIsRefusedAtItsSender(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	flooder := s.connect(t, "mallory", "")
	bob := s.connect(t, "bob", "")
	for i := range 1000 {
		if err := flooder.Write(context.Background(), websocket.MessageText, []byte(fmt.Sprintf(`{"type":"dm","to":"bob","text":"%d"}`, i))); err != nil {
			break // closed by the server
		}
	}
	if code, _ := closeStatus(t, flooder); code != websocket.StatusPolicyViolation {
		t.Errorf("the flooder was closed with %d, want 1008", code)
	}
	got := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, b, err := bob.Read(ctx)
		cancel()
		if err != nil {
			break // nothing more for a second: the burst is over
		}
		var m outbound
		if err := json.Unmarshal(b, &m); err != nil || m.Type != "dm" {
			continue
		}
		if m.Text != fmt.Sprint(got) {
			t.Fatalf("bob got %q as message %d: lost or reordered", m.Text, got)
		}
		got++
	}
	if got == 0 || got >= 1000 {
		t.Errorf("bob got %d of the flood, want the burst the limit allowed", got)
	}
	if h := s.health(t).Connections; h.RateLimitCloses != 1 || h.SlowCloses != 0 {
		t.Errorf("RateLimitCloses %d, SlowCloses %d; want 1, 0: only the flooder closed", h.RateLimitCloses, h.SlowCloses)
	}
}

// TestShutdownDrainsWith1012: with CHAT_DRAIN, a shutdown first closes the
// clients with 1012 (service restart), spread over the drain, so that they
// reconnect elsewhere a few at a time, and refuses new ones meanwhile.
func TestShutdownDrainsWith1012(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"CHAT_DRAIN": "300ms"}, hooks{})
	clients := map[string]*websocket.Conn{}
	for _, name := range []string{"alice", "bob", "carol"} {
		clients[name] = s.connect(t, name, "")
	}
	done := make(chan error, 1)
	go func() { done <- s.shutdown(t) }()
	for name, c := range clients {
		if code, _ := closeStatus(t, c); code != websocket.StatusServiceRestart {
			t.Errorf("%s closed with %d, want 1012", name, code)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("run returned %v after a drained shutdown", err)
	}
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	const secret = "chat-secret-that-must-never-leak-0123456789"
	s := start(t, map[string]string{"JWT_SECRET": secret}, hooks{})
	token := s.login(t, "alice")

	status, body := s.get(t, "/api/me", token)
	var me meResponse
	if err := json.Unmarshal(body, &me); err != nil || status != http.StatusOK || me.User != "alice" {
		t.Errorf("/api/me with a token: %d %s", status, body)
	}
	if status, _ := s.get(t, "/api/me", ""); status != http.StatusUnauthorized {
		t.Errorf("/api/me without a token: %d, want 401", status)
	}
	if status, _ := s.get(t, "/api/me", "garbage"); status != http.StatusUnauthorized {
		t.Errorf("/api/me with a bad token: %d, want 401", status)
	}

	status, body = s.get(t, "/", "")
	if status != http.StatusOK || !strings.Contains(string(body), "<title>ssot chat</title>") {
		t.Errorf("/: %d", status)
	}
	for _, asset := range []string{"/static/app.js", "/static/ssot.js", "/static/app.css"} {
		if status, _ := s.get(t, asset, ""); status != http.StatusOK {
			t.Errorf("%s: %d", asset, status)
		}
	}

	alice := s.connect(t, "alice", "")
	send(t, alice, inbound{Type: "say", Text: "counted"})
	next(t, alice)
	status, body = s.get(t, "/healthz", "")
	if status != http.StatusOK {
		t.Fatalf("/healthz: %d", status)
	}
	if strings.Contains(string(body), secret) || strings.Contains(string(body), token) {
		t.Errorf("/healthz leaks a secret: %s", body)
	}
	h := s.health(t)
	if h.Connections.ConnsActive != 1 || h.Connections.MessagesWritten < 1 {
		t.Errorf("/healthz connections = %+v, want one active connection and a written message", h.Connections)
	}
	if h.Config.Sources["JWT_SECRET"] == "" || h.Config.JWTKey != "hmac" || !h.Config.DevLogin {
		t.Errorf("/healthz config = %+v", h.Config)
	}
}

func TestDevLoginRefusedOutsideDevelopment(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"test", "staging", "production"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := start(t, map[string]string{
				"ENVIRONMENT": name,
				"JWT_SECRET":  strings.Repeat("s", 32),
				"JWT_ISSUER":  "https://login.example.com",
			}, hooks{})
			resp, err := s.client.Post(s.base+"/dev/login", "application/json", strings.NewReader(`{"user":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusForbidden || body["token"] != "" {
				t.Errorf("dev login in %s: %d %v, want 403 and no token", name, resp.StatusCode, body)
			}
		})
	}
}
