package client_test

import (
	"context"
	"slices"
	"strings"
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

// testEventSourceResume: a browser's own EventSource, with no ssot.js,
// reconnects by itself when its stream drops and presents the id of the
// last event it got as Last-Event-ID; the new stream resumes from it, so
// the page gets every message once, in order, and no second reset.
func testEventSourceResume(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNodeWith(t, historyOn(), false)
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.eval(`fetch("/token?user=alice&ttl=60000").then(r => r.text()).then(tok => {
		window.es = { got: [], ids: [], opens: 0, errors: 0 };
		const s = new EventSource("/sse?token=" + encodeURIComponent(tok));
		s.addEventListener("open", e => { if (typeof e.data === "string") es.opens++; });
		s.onmessage = e => { es.got.push(e.data); es.ids.push(e.lastEventId); };
		s.onerror = () => es.errors++;
		es.source = s;
	})`)
	p.wait(`window.es && es.opens === 1 && es.got.length === 1`)
	n.sendAll(t, "alice", numbered("m", 1, 3))
	p.wait(`es.got.length === 4`)
	var ids []string
	p.evalInto(`es.ids`, &ids)

	fr.down()
	p.wait(`es.errors > 0`)
	eventually(t, "the dropped stream's end at the node", func() bool { return n.f.Stats().ConnsActive == 0 })
	n.sendAll(t, "alice", numbered("m", 4, 6))
	fr.up(t)
	p.wait(`es.opens === 2 && es.got.length >= 7`)

	var got []string
	p.evalInto(`es.got`, &got)
	if !strings.Contains(got[0], ".") || strings.Contains(got[0], " ") {
		t.Errorf("first event %q, want the reset frame", got[0])
	}
	var payloads []string
	for _, d := range got[1:] {
		_, m, ok := strings.Cut(d, " ")
		if !ok {
			t.Errorf("a second reset, %q: the stream did not resume", d)
		}
		payloads = append(payloads, m)
	}
	if want := numbered("m", 1, 6); !slices.Equal(payloads, want) {
		t.Errorf("the page got %q, want %q, each once", payloads, want)
	}
	n.mu.Lock()
	presented := append([]string(nil), n.lastEventIDs...)
	n.mu.Unlock()
	if len(presented) != 2 || presented[0] != "" || presented[1] != ids[3] {
		t.Errorf("Last-Event-ID of the streams: %q, want none, then m3's id %q", presented, ids[3])
	}
	p.eval(`es.source.close()`)
}
