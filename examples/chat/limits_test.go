package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// metric returns the value of the sample line that starts with name in
// /metrics, or fails.
func (s *service) metric(t testing.TB, name string) string {
	t.Helper()
	status, body := s.get(t, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return ""
}

// eventually polls cond until it holds, or fails with what.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// visit connects user to room and closes the connection, waiting for the
// server's close.
func (s *service) visit(t testing.TB, token, user, room string) {
	t.Helper()
	c, _, err := s.dial(t, room, token)
	if err != nil {
		t.Fatalf("%s: dial %s: %v", user, room, err)
	}
	if got := next(t, c); got.Type != "welcome" {
		t.Fatalf("%s in %s: first message %+v, want the welcome", user, room, got)
	}
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("%s: closing %s: %v", user, room, err)
	}
}

func TestRoomRelaysAreReleasedWithTheirLastMember(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	var wg sync.WaitGroup
	for u := range 10 {
		user := fmt.Sprintf("user%d", u)
		token := s.login(t, user)
		wg.Go(func() {
			for r := range 20 {
				s.visit(t, token, user, fmt.Sprintf("%s-room%d", user, r))
			}
		})
	}
	wg.Wait()
	eventually(t, "room relays are still held after every member left", func() bool {
		return s.metric(t, `ssot_ws_managers_active{factory="rooms"}`) == "0" && s.metric(t, `ssot_ws_connections_active{factory="rooms"}`) == "0"
	})
	// A room released is joined again as a new one, and works.
	alice, bob := s.connect(t, "alice", "user0-room0"), s.connect(t, "bob", "user0-room0")
	send(t, alice, inbound{Type: "say", Text: "again"})
	if got := next(t, bob); got.Type != "message" || got.Text != "again" {
		t.Fatalf("bob got %+v, want alice's message", got)
	}
}

func TestRoomLimit(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"CHAT_MAX_ROOMS": "2"}, hooks{})
	alice := s.connect(t, "alice", "one")
	s.connect(t, "bob", "two")
	carol := s.login(t, "carol")
	c, _, err := s.dial(t, "three", carol)
	if err != nil {
		t.Fatalf("a room past the limit is upgraded, then closed: %v", err)
	}
	if code, reason := closeStatus(t, c); code != websocket.StatusPolicyViolation || reason != "too many rooms" {
		t.Errorf("a room past the limit closed with %d %q, want 1008 \"too many rooms\"", code, reason)
	}
	// A room that has members is not new.
	s.connect(t, "carol", "two")
	// A room whose last member left no longer counts.
	if err := alice.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice's connection is still registered", func() bool { return s.health(t).Connections.ConnsActive == 2 })
	s.connect(t, "dave", "three")
	if !strings.Contains(s.logs.String(), `reason="too many rooms"`) {
		t.Errorf("the refusal is not logged:\n%s", s.logs)
	}
}

func TestIdleRoomsDoNotKeepAUserOut(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	token := s.login(t, "alice")
	for r := range 25 {
		s.visit(t, token, "alice", fmt.Sprintf("room%d", r))
	}
	c, _, err := s.dial(t, "room25", token)
	if err != nil {
		t.Fatal(err)
	}
	if got := next(t, c); got.Type != "welcome" {
		t.Fatalf("a 26th room after 25 left got %+v, want the welcome", got)
	}
}

func TestDirectMessagesToMadeUpNames(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"CHAT_READ_RATE": "0"}, hooks{})
	alice := s.connect(t, "alice", "")
	for _, to := range []string{strings.Repeat("x", 257), "bad\x00name", "bad\nname"} {
		send(t, alice, inbound{Type: "dm", To: to, Text: "hi"})
		if got := next(t, alice); got.Type != "error" || got.Error != "a direct message's recipient must be a user name" {
			t.Errorf("a direct message to %q got %+v, want the invalid-recipient error", to, got)
		}
	}
	const n = 5000
	for i := range n {
		send(t, alice, inbound{Type: "dm", To: fmt.Sprintf("ghost-%d", i), Text: "hi"})
	}
	for range n {
		if got := next(t, alice); got.Type != "error" || got.Error != "the recipient is not online; the message was not delivered" {
			t.Fatalf("a direct message to nobody got %+v, want the not-delivered error", got)
		}
	}
	if h := s.health(t); h.Connections.HistoryBytes != 0 {
		t.Errorf("history_bytes %d after direct messages to made-up names, want 0", h.Connections.HistoryBytes)
	}
}

func TestNotOnlineSaysWhetherTheMessageIsKept(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	alice := s.connect(t, "alice", "")
	bob := s.connect(t, "bob", "")
	if err := bob.Close(websocket.StatusGoingAway, "tab closed"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's connection is still registered", func() bool { return s.health(t).Connections.ConnsActive == 1 })
	send(t, alice, inbound{Type: "dm", To: "bob", Text: "kept"})
	if got := next(t, alice); got.Error != "the recipient is not online; a tab of theirs that reconnects will get the message" {
		t.Errorf("a direct message to bob, away, got %+v, want that it is kept", got)
	}
	send(t, alice, inbound{Type: "dm", To: "carol", Text: "lost"})
	if got := next(t, alice); got.Error != "the recipient is not online; the message was not delivered" {
		t.Errorf("a direct message to carol, never here, got %+v, want that it was not delivered", got)
	}
}

func TestInvalidResume(t *testing.T) {
	t.Parallel()
	for _, closeAfter := range []string{"true", "false"} {
		t.Run("close after upgrade "+closeAfter, func(t *testing.T) {
			t.Parallel()
			s := start(t, map[string]string{"CHAT_CLOSE_AFTER_UPGRADE": closeAfter}, hooks{})
			token := s.login(t, "alice")
			for _, resume := range []string{"garbage", "-1", strings.Repeat("9", 5000)} {
				h := http.Header{"Authorization": {"Bearer " + token}}
				c, resp, err := s.dialWith(t, "", &websocket.DialOptions{HTTPHeader: h}, "resume="+resume)
				if closeAfter == "false" {
					if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
						t.Errorf("resume=%.10s: %v, %v; want 400", resume, resp, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("resume=%.10s: %v, want an upgrade, then a close", resume, err)
				}
				if code, reason := closeStatus(t, c); code != websocket.StatusPolicyViolation || reason != "invalid resume position" {
					t.Errorf("resume=%.10s closed with %d %q, want 1008 \"invalid resume position\"", resume, code, reason)
				}
			}
			if got := strings.Count(s.logs.String(), `msg="chat: websocket refused"`); got != 3 {
				t.Errorf("%d refusals logged at Info, want 3:\n%s", got, s.logs)
			}
		})
	}
}

func TestAccessLogStatusOfUpgrades(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"LOG_LEVEL": "debug"}, hooks{})
	c, _, err := s.dial(t, "lobby", "garbage-token")
	if err != nil {
		t.Fatal(err)
	}
	closeStatus(t, c)
	_, resp, err := s.dialWith(t, "lobby", &websocket.DialOptions{HTTPHeader: http.Header{"Sec-WebSocket-Version": {"7"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("a handshake of a version the server does not speak: %v, %v; want 426", resp, err)
	}
	// The access line is written once the handler returned, which, for
	// the upgraded connection, may be after the client saw it close.
	var statuses []string
	for deadline := time.Now().Add(testTimeout); ; time.Sleep(10 * time.Millisecond) {
		statuses = statuses[:0]
		for line := range strings.Lines(s.logs.String()) {
			if strings.Contains(line, `msg=http`) && strings.Contains(line, "path=/ws") {
				_, v, _ := strings.Cut(line, "status=")
				statuses = append(statuses, strings.Fields(v)[0])
			}
		}
		if len(statuses) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	slices.Sort(statuses)
	if strings.Join(statuses, ",") != "101,426" {
		t.Errorf("access log statuses of /ws %v, want 101 and 426", statuses)
	}
}
