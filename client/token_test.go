package client_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// testTokenRefreshed: with tokens that live 3 seconds, the client
// refreshes in band before each expires, and its connection serves well
// past the first token's expiry without closing.
func testTokenRefreshed(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice", "ttlMillis": 3000})
	p.wait(`client.state === "open"`)
	opened := time.Now()
	// The second refresh comes after the first token has expired.
	p.wait(`messages('{"type":"refreshed"}').length >= 2`)
	if since := time.Since(opened); since < 3*time.Second {
		t.Fatalf("two refreshes within %v: the first token has not expired yet", since)
	}
	n.sendAll(t, "alice", numbered("m", 1, 3))
	p.exactly("m", numbered("m", 1, 3))
	if codes := p.closeCodes(); len(codes) != 0 {
		t.Errorf("the connection closed (%v); want it open past its first token's expiry", codes)
	}
	if _, _, refreshes := n.record(); refreshes < 2 {
		t.Errorf("the server accepted %d refreshes, want at least 2", refreshes)
	}
}

// testPolicyClose: a token that expires unrefreshed closes the connection
// with 1008, which the client hands to the application with its position
// kept, in memory and in sessionStorage; the application connects again
// (token() gives a new token) and the client resumes from it.
func testPolicyClose(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	fr := newFront(t, n.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice", "ttlMillis": 3000, "noRefresh": true})
	p.wait(`client.state === "open"`)
	n.sendAll(t, "alice", numbered("m", 1, 3))
	p.exactly("m", numbered("m", 1, 3))
	pos := p.position()

	p.wait(`count("policy") === 1`)
	var policy []event
	for _, e := range p.events() {
		if e.Type == "policy" {
			policy = append(policy, e)
		}
	}
	if len(policy) != 1 || policy[0].Code != 1008 || policy[0].Reason != "token expired" {
		t.Errorf("policy events %+v, want one 1008 token expired", policy)
	}
	var state struct{ State, Position, Stored string }
	if err := json.Unmarshal(p.eval(`({state: client.state, position: client.position, stored: sessionStorage.getItem("ssot.position /ws")})`), &state); err != nil {
		t.Fatal(err)
	}
	if state.State != "closed" || state.Position != pos || state.Stored != pos {
		t.Errorf("after 1008: state %q, position %q, stored %q; want closed, %q, %q", state.State, state.Position, state.Stored, pos, pos)
	}

	n.sendAll(t, "alice", numbered("m", 4, 6))
	p.eval(`client.connect()`)
	p.wait(`client.state === "open"`)
	p.exactly("m", numbered("m", 1, 6))
	if got := n.lastResume(t); got != pos {
		t.Errorf("the client resumed from %q after 1008, want %q", got, pos)
	}
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first connection's", got)
	}
}
