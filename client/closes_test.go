package client_test

import (
	"context"
	"testing"
)

// testServerCloses: the server closes with 1000 (DisconnectUser), and the
// client reconnects within restartDelay; the handler fails (1011), and the
// client backs off and reconnects; each time it resumes, and gets every
// message once, in order.
func testServerCloses(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open"`)
	n.sendAll(t, "alice", numbered("m", 1, 3))
	p.exactly("m", numbered("m", 1, 3))

	if err := n.f.DisconnectUser(context.Background(), "alice", 1000, "bye"); err != nil {
		t.Fatal(err)
	}
	n.sendAll(t, "alice", numbered("m", 4, 6))
	p.wait(`client.state === "open" && count("open") === 2`)
	p.exactly("m", numbered("m", 1, 6))

	p.eval(`client.send("fail")`)
	n.sendAll(t, "alice", numbered("m", 7, 9))
	p.wait(`client.state === "open" && count("open") === 3`)
	p.exactly("m", numbered("m", 1, 9))

	var closes []event
	for _, e := range p.events() {
		if e.Type == "close" {
			closes = append(closes, e)
		}
	}
	if len(closes) != 2 || closes[0].Code != 1000 || closes[1].Code != 1011 {
		t.Fatalf("closes %+v, want 1000 then 1011", closes)
	}
	// The page's restartDelay is 300 ms, its backoffBase 100 ms: the first
	// close does not back off, the second is the first back-off attempt.
	if d := closes[0].ReconnectIn; d == nil || *d < 0 || *d >= 300 {
		t.Errorf("reconnecting %v ms after 1000, want within restartDelay", d)
	}
	if d := closes[1].ReconnectIn; d == nil || *d < 0 || *d >= 100 {
		t.Errorf("reconnecting %v ms after 1011, want within backoffBase", d)
	}
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first connection's", got)
	}
}
