package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestChatOverServerSentEvents: a user whose network lets no WebSocket
// through chats over /sse, in the same room as a WebSocket user: room
// messages and direct messages reach both, the same as between two
// WebSockets.
func TestChatOverServerSentEvents(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	token := s.login(t, "alice")
	req, err := http.NewRequest(http.MethodGet, s.base+"/sse?room=lobby&token="+url.QueryEscape(token), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the stream answered %d", resp.StatusCode)
	}
	events := bufio.NewReader(resp.Body)
	// nextEvent returns the next event's type and data.
	nextEvent := func() (typ, data string) {
		t.Helper()
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the stream: %v", err)
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "" && data != "":
				return typ, data
			case strings.HasPrefix(line, "event: "):
				typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			}
		}
	}
	nextMessage := func() outbound {
		t.Helper()
		for {
			typ, data := nextEvent()
			if typ != "" {
				t.Fatalf("a %s event: %q", typ, data)
			}
			var o outbound
			if err := json.Unmarshal([]byte(data), &o); err != nil {
				t.Fatalf("%q: %v", data, err)
			}
			if o.Type != "reset" && o.Type != "welcome" {
				return o
			}
		}
	}
	typ, key := nextEvent()
	if typ != "open" {
		t.Fatalf("first event %q, want open", typ)
	}
	post := func(v inbound) {
		t.Helper()
		b, _ := json.Marshal(v)
		req, _ := http.NewRequest(http.MethodPost, s.base+"/sse?conn="+url.QueryEscape(key), strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST answered %d", resp.StatusCode)
		}
	}
	bob := s.connect(t, "bob", "lobby")

	post(inbound{Type: "say", Text: "hello from a stream"})
	want := outbound{Type: "message", Room: "lobby", From: "alice", Text: "hello from a stream"}
	if diff := cmp.Diff(want, zeroAt(next(t, bob))); diff != "" {
		t.Errorf("bob received (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, zeroAt(nextMessage())); diff != "" {
		t.Errorf("alice received (-want +got):\n%s", diff)
	}
	send(t, bob, inbound{Type: "dm", To: "alice", Text: "psst"})
	want = outbound{Type: "dm", From: "bob", To: "alice", Text: "psst"}
	if diff := cmp.Diff(want, zeroAt(nextMessage())); diff != "" {
		t.Errorf("alice received (-want +got):\n%s", diff)
	}
}

// zeroAt drops what differs from message to message: the time and the
// position.
func zeroAt(o outbound) outbound {
	o.At, o.Pos = time.Time{}, ""
	return o
}
