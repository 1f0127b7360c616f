package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/wsmanager"
)

// testFunctions runs ssot.js's pure functions in the page: the framing
// against wsmanager's own frames, the backoff's bounds, the close-code
// table, the JWT expiry and the token subprotocol.
func testFunctions(t *testing.T, browser context.Context) {
	c := newCluster(t)
	n := c.startNode(t, historyOn())
	p := openTab(t, browser, "http://"+n.addr)

	type frame struct {
		Reset    bool
		Position *string
		Data     *string
	}
	str := func(s string) *string { return &s }
	pos := wsmanager.Position{Epoch: 0x9f86d081884c7d65, Seq: 42}
	for _, tt := range []struct {
		name  string
		frame []byte
		want  frame
	}{
		{"message", wsmanager.PrefixFrame(nil, pos, []byte("hello world")), frame{Position: str("9f86d081884c7d65.42"), Data: str("hello world")}},
		{"no position", wsmanager.PrefixFrame(nil, wsmanager.Position{}, []byte("to all")), frame{Data: str("to all")}},
		{"empty message", wsmanager.PrefixFrame(nil, pos, nil), frame{Position: str("9f86d081884c7d65.42"), Data: str("")}},
		{"reset", wsmanager.ResetFrame(nil, pos), frame{Reset: true, Position: str("9f86d081884c7d65.42")}},
	} {
		var got frame
		p.evalInto(fmt.Sprintf("ssot.parseFrame(%q)", tt.frame), &got)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: parseFrame(%q) (-want +got):\n%s", tt.name, tt.frame, diff)
		}
	}

	var delays []int
	p.evalInto(`[
		ssot.backoffDelay(0, 500, 30000, () => 0.999999),
		ssot.backoffDelay(3, 500, 30000, () => 0.999999),
		ssot.backoffDelay(10, 500, 30000, () => 0.999999),
		ssot.backoffDelay(1000, 500, 30000, () => 0.999999),
		ssot.backoffDelay(10, 500, 30000, () => 0),
	]`, &delays)
	if diff := cmp.Diff([]int{499, 3999, 29999, 29999, 0}, delays); diff != "" {
		t.Errorf("backoffDelay (-want +got):\n%s", diff)
	}

	var actions map[string]string
	p.evalInto(`Object.fromEntries([1000, 1001, 1006, 1008, 1011, 1012, 1013, 4000].map(c => [c, ssot.closeAction(c)]))`, &actions)
	wantActions := map[string]string{"1000": "soon", "1001": "soon", "1012": "soon", "1008": "policy", "1006": "backoff", "1011": "backoff", "1013": "backoff", "4000": "backoff"}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("closeAction (-want +got):\n%s", diff)
	}

	token := c.tokens.issue("alice", time.Minute)
	var exp struct{ JWT, Opaque, Garbled *float64 }
	p.evalInto(fmt.Sprintf(`({jwt: ssot.jwtExpiry(%q), opaque: ssot.jwtExpiry("an opaque token"), garbled: ssot.jwtExpiry("a.b!.c")})`, token), &exp)
	if exp.JWT == nil || exp.Opaque != nil || exp.Garbled != nil {
		t.Fatalf("jwtExpiry: %+v, want a time for the JWT only", exp)
	}
	id, err := c.tokens.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(int64(*exp.JWT)); !got.Equal(id.ExpiresAt) {
		t.Errorf("jwtExpiry = %v, want %v", got, id.ExpiresAt)
	}

	var delay []float64
	p.evalInto(`[ssot.refreshDelay(0, 3000, 30000), ssot.refreshDelay(0, 3600000, 30000), ssot.refreshDelay(0, 500, 30000)]`, &delay)
	if diff := cmp.Diff([]float64{2000, 3570000, 1000}, delay); diff != "" {
		t.Errorf("refreshDelay (-want +got):\n%s", diff)
	}

	for _, tok := range []string{token, "tøken with ünicode"} {
		var got string
		p.evalInto(fmt.Sprintf("ssot.bearerProtocol(%s)", mustJSON(t, tok)), &got)
		if want := "bearer." + base64.RawURLEncoding.EncodeToString([]byte(tok)); got != want {
			t.Errorf("bearerProtocol(%q) = %q, want %q", tok, got, want)
		}
	}

	// A protocol a WebSocket refuses stops the client: no attempt can succeed.
	var invalid struct{ State, Error string }
	p.evalInto(`new Promise((resolve) => {
		const c = new ssot.Client("/ws", {protocol: "not a protocol", storageKey: null});
		c.on("error", (d) => resolve({state: c.state, error: d.error.name}));
		c.connect();
	})`, &invalid)
	if invalid.State != "closed" || invalid.Error != "SyntaxError" {
		t.Errorf("with an invalid protocol: state %q, error %q; want closed, SyntaxError", invalid.State, invalid.Error)
	}

	var thrown string
	p.evalInto(`(() => {
		const c = new ssot.Client("/ws", {storageKey: null});
		try { c.close(1001); return "nothing"; } catch (e) { return e.name; }
	})()`, &thrown)
	if thrown != "RangeError" {
		t.Errorf("close(1001) threw %q, want a RangeError: a page may not send 1001", thrown)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
