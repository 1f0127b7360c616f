package wsmanager_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

// TestIsolationUnderLoad serves 500 users with 3 connections each (two on
// one thread, one on another) and sends from many goroutines at once through
// SendToUser, Manager.Send and Broadcast. Every connection must receive
// exactly the messages addressed to it, each once, in each sender's order,
// and nothing else.
func TestIsolationUnderLoad(t *testing.T) {
	t.Parallel()
	const users, senders, perSender = 500, 8, 600
	h := newHarness(t, wsmanager.Options{QueueSize: 4096})

	type key struct{ user, thread string }
	conns := map[key][]*served{}
	managers := map[key]*wsmanager.Manager{}
	for u := range users {
		for i, thread := range []string{"a", "a", "b"} {
			uc := wsmanager.UserContext{UserID: fmt.Sprint("user", u), ThreadID: thread}
			s := h.serve(t, context.Background(), uc, echo())
			k := key{uc.UserID, thread}
			conns[k] = append(conns[k], s)
			if i != 1 {
				m, err := h.f.Manager(uc)
				if err != nil {
					t.Fatal(err)
				}
				managers[k] = m
			}
		}
	}
	for _, ss := range conns {
		for _, s := range ss {
			s.ready(t)
		}
	}

	// want[conn] counts the messages each connection must receive.
	var mu sync.Mutex
	want := map[*served]int{}
	var wg sync.WaitGroup
	for sender := range senders {
		wg.Go(func() {
			ctx := context.Background()
			for seq := range perSender {
				u := fmt.Sprint("user", (sender*7919+seq*31)%users)
				thread := []string{"a", "b"}[seq%2]
				var n int
				var err error
				var got []*served
				switch seq % 3 {
				case 0:
					msg := fmt.Appendf(nil, "%s|*|%d|%d", u, sender, seq)
					n, err = h.f.SendToUser(ctx, u, msg)
					got = slices.Concat(conns[key{u, "a"}], conns[key{u, "b"}])
				case 1:
					msg := fmt.Appendf(nil, "%s|%s|%d|%d", u, thread, sender, seq)
					n, err = managers[key{u, thread}].Send(ctx, msg)
					got = conns[key{u, thread}]
				case 2:
					msg := fmt.Appendf(nil, "%s|*|%d|%d", u, sender, seq)
					n = h.f.Broadcast(ctx, msg, func(uc wsmanager.UserContext) bool { return uc.UserID == u })
					got = slices.Concat(conns[key{u, "a"}], conns[key{u, "b"}])
				}
				if err != nil || n != len(got) {
					t.Errorf("send %d to %s reached %d connections (%v), want %d", seq, u, n, err, len(got))
					return
				}
				mu.Lock()
				for _, s := range got {
					want[s]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for k, ss := range conns {
		for _, s := range ss {
			s.peer.WaitWritten(ctx, want[s])
			checkDelivery(t, k.user, k.thread, s.peer.Written(), want[s])
		}
	}
	if err := h.f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing arrived after the expected messages either.
	for _, ss := range conns {
		for _, s := range ss {
			if got := s.peer.Count(); got != want[s] {
				t.Fatalf("connection received %d messages, want %d", got, want[s])
			}
		}
	}
}

// checkDelivery checks that every message was addressed to user and thread
// ("*": any thread of the user) and that each sender's messages arrived in
// increasing sequence.
func checkDelivery(t *testing.T, user, thread string, got [][]byte, want int) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("%s/%s: %d messages, want %d", user, thread, len(got), want)
	}
	last := map[string]int{}
	for _, msg := range got {
		var seq int
		parts := strings.Split(string(msg), "|")
		if len(parts) != 4 {
			t.Fatalf("%s/%s: malformed message %q", user, thread, msg)
		}
		if parts[0] != user || (parts[1] != "*" && parts[1] != thread) {
			t.Fatalf("%s/%s received %q, addressed to someone else", user, thread, msg)
		}
		fmt.Sscan(parts[3], &seq)
		if prev, ok := last[parts[2]]; ok && seq <= prev {
			t.Fatalf("%s/%s: sender %s's message %d arrived after %d", user, thread, parts[2], seq, prev)
		}
		last[parts[2]] = seq
	}
}
