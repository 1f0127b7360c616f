package client_test

import (
	"context"
	"slices"
	"testing"
)

// testSSEFallback: the WebSocket never opens (every upgrade is answered
// 502), so after sseAfter attempts the client falls back to server-sent
// events: it receives framed messages, sends in order through POSTs,
// refreshes its 3-second token in band past its expiry, resumes from its
// position once a dropped stream is back, and reconnects after a close
// event.
func testSSEFallback(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNodeWith(t, historyOn(), false)
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice", "ttlMillis": 3000, "options": map[string]any{"sseURL": "/sse"}})
	p.wait(`client.state === "open" && client.transport === "sse"`)
	var failed int
	for _, e := range p.events() {
		if e.Type == "close" && e.Code == 1006 && !e.Opened {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d WebSocket attempts failed before the fallback, want sseAfter's default, 3", failed)
	}

	n.sendAll(t, "alice", numbered("m", 1, 5))
	p.exactly("m", numbered("m", 1, 5))
	p.eval(`["c1", "c2", "c3"].forEach(m => client.send(m))`)
	eventually(t, "the client's messages at the server", func() bool {
		_, got, _ := n.record()
		return len(got) >= 3
	})
	if _, got, _ := n.record(); !slices.Equal(got, []string{"c1", "c2", "c3"}) {
		t.Errorf("the server received %q, want c1, c2, c3", got)
	}
	// The second refresh comes after the first token has expired.
	p.wait(`messages('{"type":"refreshed"}').length >= 2`)
	pos := p.position()

	fr.down()
	p.wait(`client.state === "reconnecting"`)
	n.sendAll(t, "alice", numbered("m", 6, 8))
	fr.up(t)
	p.wait(`client.state === "open"`)
	p.exactly("m", numbered("m", 1, 8))
	if got := n.lastResume(t); got != pos {
		t.Errorf("the stream resumed from %q, want %q", got, pos)
	}

	// A close reaches the client as an event: the code and reason it
	// carries decide what follows.
	if err := n.f.DisconnectUser(context.Background(), "alice", 1012, "service restart"); err != nil {
		t.Fatal(err)
	}
	n.sendAll(t, "alice", numbered("m", 9, 10))
	p.wait(`events.some(e => e.type === "close" && e.code === 1012 && e.reason === "service restart") && client.state === "open"`)
	p.exactly("m", numbered("m", 1, 10))
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first stream's", got)
	}
	if codes := p.closeCodes(); slices.Contains(codes, 1008) {
		t.Errorf("close codes %v: the token expired", codes)
	}
}
