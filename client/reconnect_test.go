package client_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/wsmanager"
)

// TestBrowser drives ssot.js in one headless Chromium, a tab per subtest,
// against real ssot servers. Every subtest checks that the page got every
// message sent to its user exactly once and in order, or a reset where
// the server lost them.
func TestBrowser(t *testing.T) {
	t.Parallel()
	browser := startBrowser(t)
	for _, tt := range []struct {
		name string
		test func(*testing.T, context.Context)
	}{
		{"functions", testFunctions},
		{"offline and back", testOfflineAndBack},
		{"page reload", testPageReload},
		{"server restart", testServerRestart},
		{"drain", testDrain},
		{"node killed", testNodeKilled},
		{"token refreshed", testTokenRefreshed},
		{"1008 to the application", testPolicyClose},
		{"bounded send queue", testSendQueue},
		{"1013 backs off", testTryAgainLater},
		{"server closes with 1000 and 1011", testServerCloses},
		{"server-sent events fallback", testSSEFallback},
		{"EventSource resumes by itself", testEventSourceResume},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, browser)
		})
	}
}

// historyOn is a factory that keeps its users' last messages in memory.
func historyOn() wsmanager.Options {
	return wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 1000}}
}

// numbered returns prefix1 … prefixN, the messages of a test, from from to to.
func numbered(prefix string, from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return s
}

// sendAll sends msgs to user through n, in order.
func (n *node) sendAll(t *testing.T, user string, msgs []string) {
	t.Helper()
	for _, m := range msgs {
		n.send(t, user, m)
	}
}

// exactly checks that the page received want, each once, in order.
func (p *tab) exactly(prefix string, want []string) {
	p.t.Helper()
	p.wait(fmt.Sprintf("messages(%q).length >= %d", prefix, len(want)))
	if diff := cmp.Diff(want, p.messages(prefix)); diff != "" {
		p.t.Errorf("messages received (-want +got):\n%s", diff)
	}
}

// count returns how many events of type the page recorded.
func (p *tab) count(typ string) int {
	p.t.Helper()
	var n int
	p.evalInto(fmt.Sprintf("count(%q)", typ), &n)
	return n
}

// closeCodes returns the codes of the page's close events, in order.
func (p *tab) closeCodes() []int {
	p.t.Helper()
	var codes []int
	for _, e := range p.events() {
		if e.Type == "close" {
			codes = append(codes, e.Code)
		}
	}
	return codes
}

// lastResume returns the position the node's last connection presented.
func (n *node) lastResume(t *testing.T) string {
	t.Helper()
	resumes, _, _ := n.record()
	if len(resumes) == 0 {
		t.Fatal("no connection reached the node")
	}
	return resumes[len(resumes)-1]
}

// eventually waits, within waitTimeout, for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %v", what, waitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testOfflineAndBack: the front's listener closes and every connection
// drops (1006); what is sent meanwhile is kept by the node; once the front
// is back the client resumes from its position and gets it, once.
func testOfflineAndBack(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open" && count("reset") === 1`) // a fresh client learns the head
	n.sendAll(t, "alice", numbered("m", 1, 5))
	p.exactly("m", numbered("m", 1, 5))
	pos := p.position()

	fr.down()
	p.wait(`client.state === "reconnecting"`)
	n.sendAll(t, "alice", numbered("m", 6, 10))
	p.wait(`events.some(e => e.type === "close" && !e.opened)`) // an attempt refused while offline
	fr.up(t)
	p.wait(`client.state === "open"`)
	n.sendAll(t, "alice", numbered("m", 11, 12))
	p.exactly("m", numbered("m", 1, 12))
	if got := n.lastResume(t); got != pos {
		t.Errorf("the client resumed from %q, want %q, the position of the last message it had", got, pos)
	}
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first connection's", got)
	}
	if codes := p.closeCodes(); len(codes) == 0 || codes[0] != 1006 {
		t.Errorf("close codes %v, want 1006 first: the connection dropped", codes)
	}
	// Full jitter under a doubling bound: the page's backoffBase is 100 ms
	// and its backoffCap 1 s.
	i := 0
	for _, e := range p.events() {
		if e.Type != "close" {
			continue
		}
		if bound := min(1000, 100<<i); e.ReconnectIn == nil || *e.ReconnectIn < 0 || *e.ReconnectIn >= bound {
			t.Errorf("attempt %d: reconnecting in %v ms, want within [0, %d)", i, e.ReconnectIn, bound)
		}
		i++
	}
}

// testPageReload: the position outlives the page, in sessionStorage; the
// reloaded page resumes from it and gets what was sent while it loaded.
func testPageReload(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open"`)
	n.sendAll(t, "alice", numbered("m", 1, 3))
	p.exactly("m", numbered("m", 1, 3))
	pos := p.position()

	if err := chromedp.Do(p.ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reloading: %v", err)
	}
	p.wait("window.ready === true")
	n.sendAll(t, "alice", numbered("m", 4, 5))
	var loaded string
	p.evalInto(`start({user: "alice"})`, &loaded)
	if loaded != pos {
		t.Errorf("the reloaded page's client starts at %q, want %q", loaded, pos)
	}
	p.exactly("m", numbered("m", 4, 5))
	if got := n.lastResume(t); got != pos {
		t.Errorf("the reloaded page resumed from %q, want %q", got, pos)
	}
	if got := p.count("reset"); got != 0 {
		t.Errorf("the reloaded page got %d resets, want none", got)
	}
}

// testServerRestart: the server process stops (1001) and a new one, with
// a new Factory and none of the old history, takes the address: the
// client reconnects, presents its old position, and gets a reset.
func testServerRestart(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n1 := c.startNode(t, historyOn())
	fr := newFront(t, n1.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open"`)
	n1.sendAll(t, "alice", numbered("m", 1, 5))
	p.exactly("m", numbered("m", 1, 5))
	pos := p.position()

	n1.stop(t)
	p.wait(`events.some(e => e.type === "close" && e.code === 1001)`)
	n2 := c.startNode(t, historyOn())
	fr.point(n2.addr)
	p.wait(`client.state === "open" && count("reset") === 2`)
	n2.sendAll(t, "alice", numbered("m", 6, 8))
	p.exactly("m", numbered("m", 1, 8))
	if got := n2.lastResume(t); got != pos {
		t.Errorf("the client presented %q to the new server, want %q", got, pos)
	}
	// The reset comes after the old server's messages and before the new
	// one's.
	var order []string
	for _, e := range p.events() {
		switch {
		case e.Type == "reset":
			order = append(order, "reset")
		case e.Type == "message" && e.Data == "m5", e.Type == "message" && e.Data == "m6":
			order = append(order, e.Data.(string))
		}
	}
	if diff := cmp.Diff([]string{"reset", "m5", "reset", "m6"}, order); diff != "" {
		t.Errorf("events in order (-want +got):\n%s", diff)
	}
}

// testSendQueue: while disconnected, send queues up to queueMessages and
// then returns false; the queue reaches the server once, in order, when the
// client is back.
func testSendQueue(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice", "options": map[string]any{"queueMessages": 5}})
	p.wait(`client.state === "open"`)
	var sent bool
	p.evalInto(`client.send("q1")`, &sent)
	if !sent {
		t.Fatal("send on an open connection returned false")
	}
	received := func(want []string) func() bool {
		return func() bool {
			_, got, _ := n.record()
			return slices.Equal(got, want)
		}
	}
	eventually(t, "q1 at the server", received([]string{"q1"}))

	fr.down()
	p.wait(`client.state === "reconnecting"`)
	var results []bool
	p.evalInto(`[2, 3, 4, 5, 6, 7, 8].map(i => client.send("q" + i))`, &results)
	if diff := cmp.Diff([]bool{true, true, true, true, true, false, false}, results); diff != "" {
		t.Errorf("send while disconnected (-want +got):\n%s", diff)
	}
	var queued int
	p.evalInto(`client.queued`, &queued)
	if queued != 5 {
		t.Errorf("%d messages queued, want 5", queued)
	}
	fr.up(t)
	p.wait(`client.state === "open"`)
	p.evalInto(`client.send("q9")`, &sent)
	want := append([]string{"q1"}, numbered("q", 2, 6)...)
	want = append(want, "q9")
	eventually(t, "the queue at the server", func() bool {
		_, got, _ := n.record()
		return len(got) >= len(want)
	})
	if _, got, _ := n.record(); !cmp.Equal(want, got) {
		t.Errorf("the server received %q, want %q", got, want)
	}
}
