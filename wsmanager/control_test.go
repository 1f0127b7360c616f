package wsmanager_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

// closedWith waits for the peer to see its connection closed and returns
// the close code and reason.
func closedWith(t *testing.T, s *served) (int, string) {
	t.Helper()
	if err := s.wait(t); err != nil && !errors.Is(err, wsmanager.ErrClosed) {
		t.Logf("Serve: %v", err)
	}
	code, reason, ok := s.peer.Closed()
	if !ok {
		t.Fatal("transport not closed")
	}
	return code, reason
}

// TestDisconnectUserEverywhere: DisconnectUser closes the user's
// connections on every node, with the code and reason given, and no other
// user's; through a broker and through a Log.
func TestDisconnectUserEverywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts func() wsmanager.Options
	}{
		{"broker", func() wsmanager.Options { return wsmanager.Options{Broker: newFakeBroker()} }},
		{"router", func() wsmanager.Options { return wsmanager.Options{Broker: &fakeRouter{}} }},
		{"log", func() wsmanager.Options {
			return wsmanager.Options{Broker: newFakeLog(), History: wsmanager.HistoryOptions{Messages: 10}}
		}},
		{"signed", func() wsmanager.Options {
			return wsmanager.Options{Broker: newFakeBroker(), BrokerKey: []byte(strings.Repeat("k", 32))}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts()
			a := newHarness(t, opts)
			b := newHarness(t, opts)
			ctx := context.Background()
			ua := a.serve(t, ctx, wsmanager.UserContext{UserID: "u", ThreadID: "1"}, echo())
			ub := b.serve(t, ctx, wsmanager.UserContext{UserID: "u", ThreadID: "2"}, echo())
			other := b.serve(t, ctx, wsmanager.UserContext{UserID: "v"}, echo())
			ua.ready(t)
			ub.ready(t)
			other.ready(t)
			if err := a.f.DisconnectUser(ctx, "u", 4001, "logged out"); err != nil {
				t.Fatal(err)
			}
			for node, s := range map[string]*served{"a": ua, "b": ub} {
				if code, reason := closedWith(t, s); code != 4001 || reason != "logged out" {
					t.Errorf("node %s closed u with %d %q, want 4001 \"logged out\"", node, code, reason)
				}
			}
			if other.c.State().IsTerminal() {
				t.Error("another user's connection was closed")
			}
			if _, _, closed := other.peer.Closed(); closed {
				t.Error("another user's transport was closed")
			}
		})
	}
}

// TestDisconnectUserRefusesBadInput: a close code a server may not send, an
// overlong reason and an invalid user are refused before anything closes.
func TestDisconnectUserRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	ctx := context.Background()
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	for _, tc := range []struct {
		user   string
		code   int
		reason string
		want   error
	}{
		{"u", 1005, "", wsmanager.ErrInvalidOptions},
		{"u", 1006, "", wsmanager.ErrInvalidOptions},
		{"u", 999, "", wsmanager.ErrInvalidOptions},
		{"u", 5000, "", wsmanager.ErrInvalidOptions},
		{"u", 4000, strings.Repeat("x", 124), wsmanager.ErrInvalidOptions},
		{"u", 4000, "\xff", wsmanager.ErrInvalidOptions},
		{"", 4000, "", wsmanager.ErrInvalidUser},
	} {
		if err := h.f.DisconnectUser(ctx, tc.user, tc.code, tc.reason); !errors.Is(err, tc.want) {
			t.Errorf("DisconnectUser(%q, %d, %d-byte reason) = %v, want %v", tc.user, tc.code, len(tc.reason), err, tc.want)
		}
	}
	if s.c.State().IsTerminal() {
		t.Error("a refused DisconnectUser closed the connection")
	}
}

// TestDisconnectUserForgedIsRejected: with a BrokerKey, a disconnect
// request that a node without the key published is rejected and counted.
func TestDisconnectUserForgedIsRejected(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	key := []byte(strings.Repeat("k", 32))
	a := newHarness(t, wsmanager.Options{Broker: b, BrokerKey: key})
	forger := newHarness(t, wsmanager.Options{Broker: b, BrokerKey: []byte(strings.Repeat("x", 32))})
	ctx := context.Background()
	s := a.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	if err := forger.f.DisconnectUser(ctx, "u", 4001, "forged"); err != nil {
		t.Fatal(err)
	}
	if got := a.f.Stats().BrokerRejected; got != 1 {
		t.Errorf("BrokerRejected %d, want 1", got)
	}
	if s.c.State().IsTerminal() {
		t.Error("a forged disconnect request closed the connection")
	}
}
