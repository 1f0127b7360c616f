package client_test

import (
	"context"
	"testing"
)

// testTryAgainLater: a second tab of a user who may hold one connection is
// closed with 1013 after its upgrade and backs off, attempt after attempt;
// once the first tab closes, the second gets in, and gets what is sent
// from then on.
func testTryAgainLater(t *testing.T, browser context.Context) {
	c := newCluster(t)
	opts := historyOn()
	opts.MaxConnsPerManager = 1
	n := c.startNode(t, opts)
	fr := newFront(t, n.addr)
	first := openTab(t, browser, fr.url())
	first.start(map[string]any{"user": "alice"})
	first.wait(`client.state === "open"`)
	second := openTab(t, browser, fr.url())
	second.start(map[string]any{"user": "alice"})
	second.wait(`events.filter(e => e.type === "close" && e.code === 1013 && e.reconnectIn !== null).length >= 2`)
	if got := second.count("open"); got == 0 {
		t.Error("the refused tab never saw its connection open: 1013 comes after the upgrade")
	}
	n.sendAll(t, "alice", numbered("m", 1, 3))
	first.exactly("m", numbered("m", 1, 3))

	first.eval(`client.close()`)
	second.wait(`client.state === "open" && count("reset") === 1`)
	n.sendAll(t, "alice", numbered("m", 4, 5))
	second.exactly("m", numbered("m", 4, 5))
	if got := first.messages("m"); len(got) != 3 {
		t.Errorf("the closed tab got %q after its close, want only m1 to m3", got)
	}
}
