package wsmanager_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// client plays a browser tab that keeps its position, as the package
// documents for PrefixFrame: it splits every message at its first space and
// treats a message without one as a reset.
type client struct {
	pos    wsmanager.Position
	got    []string
	resets int
}

// take reads what peer was written since from and updates the client.
func (cl *client) take(t testing.TB, written [][]byte) {
	t.Helper()
	for _, m := range written {
		posText, payload, ok := bytes.Cut(m, []byte(" "))
		pos, err := wsmanager.ParsePosition(string(posText))
		if err != nil {
			t.Fatalf("message %q: %v", m, err)
		}
		if !ok {
			cl.resets++
		} else {
			cl.got = append(cl.got, string(payload))
		}
		cl.pos = pos
	}
}

// connect serves a new in-memory connection for uc resuming from cl.pos.
func (h *harness) connect(t testing.TB, uc wsmanager.UserContext, after wsmanager.Position) *served {
	t.Helper()
	res, err := h.f.ReserveResume(context.Background(), uc, after)
	if err != nil {
		t.Fatalf("ReserveResume: %v", err)
	}
	peer := memconn.New(memconn.Options{})
	s := &served{peer: peer, c: res.Connection(), errc: make(chan error, 1)}
	go func() { s.errc <- res.Serve(peer, echo()) }()
	s.ready(t)
	return s
}

// disconnect closes s as its peer would and returns what it was written.
func (s *served) disconnect(t testing.TB) [][]byte {
	t.Helper()
	s.peer.PeerCloseCode(1001, "tab closed")
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	return s.peer.Written()
}

func history(n int) wsmanager.Options {
	return wsmanager.Options{History: wsmanager.HistoryOptions{Messages: n}}
}

func TestHistoryResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t, history(100))
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	var cl client
	// A client with no position starts at the stream's head: what was sent
	// before is the state it loads elsewhere, and the reset frame tells it
	// where the stream stands.
	for i := range 2 {
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "offline %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	first := h.connect(t, uc, cl.pos)
	if _, err := h.f.SendToUser(ctx, "u", []byte("live")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, first.peer, 2)
	cl.take(t, first.disconnect(t))
	if cl.resets != 1 || cl.got[0] != "live" {
		t.Fatalf("a fresh connection got %q and %d resets, want the reset frame then live", cl.got, cl.resets)
	}
	for i := range 3 {
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "missed %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	second := h.connect(t, uc, cl.pos)
	if _, err := h.f.SendToUser(ctx, "u", []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, second.peer, 4)
	cl.take(t, second.disconnect(t))
	if diff := cmp.Diff([]string{"live", "missed 0", "missed 1", "missed 2", "after"}, cl.got); diff != "" {
		t.Errorf("client got (-want +got):\n%s", diff)
	}
	if cl.resets != 1 {
		t.Errorf("%d resets, want only the first connection's", cl.resets)
	}
	st := h.f.Stats()
	if st.Resumes != 1 || st.MessagesReplayed != 3 || st.ResumeResets != 0 {
		t.Errorf("Resumes %d, MessagesReplayed %d, ResumeResets %d; want 1, 3, 0", st.Resumes, st.MessagesReplayed, st.ResumeResets)
	}
}

// TestHistoryResumeUnderLoad reconnects a client over and over, from the
// position of the last message it handled, while a sender keeps sending:
// across all the connections it gets every message exactly once, in order.
func TestHistoryResumeUnderLoad(t *testing.T) {
	t.Parallel()
	const total = 3000
	h := newHarness(t, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: total}, QueueSize: total})
	uc := wsmanager.UserContext{UserID: "u"}
	cl := firstConnection(t, h, uc)
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if _, err := h.f.SendToUser(context.Background(), "u", fmt.Appendf(nil, "%d", i)); err != nil {
				t.Error(err)
				return
			}
			sent.Add(1)
		}
	}()
	cl = reconnectUntilDone(t, cl, done, total, func(_ int, after wsmanager.Position) *served { return h.connect(t, uc, after) })
	for i, got := range cl.got {
		if got != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: a gap or a duplicate (%d messages)", i, got, len(cl.got))
		}
	}
	if len(cl.got) != total {
		t.Errorf("got %d messages, want %d", len(cl.got), total)
	}
}

// firstConnection connects a client with no position, which gets the reset
// frame that gives it one, and disconnects it.
func firstConnection(t *testing.T, h *harness, uc wsmanager.UserContext) client {
	t.Helper()
	var cl client
	s := h.connect(t, uc, cl.pos)
	waitWritten(t, s.peer, 1)
	cl.take(t, s.disconnect(t))
	if cl.resets != 1 || len(cl.got) != 0 {
		t.Fatalf("a first connection got %q and %d resets, want one reset", cl.got, cl.resets)
	}
	return cl
}

// reconnectUntilDone plays a client that connects (with connect, given the
// round and its position), takes some messages, drops, and connects again,
// until done is closed and it has all total messages of the sender.
func reconnectUntilDone(t *testing.T, cl client, done <-chan struct{}, total int, connect func(round int, after wsmanager.Position) *served) client {
	t.Helper()
	for round := 0; ; round++ {
		s := connect(round, cl.pos)
		finished := false
		select {
		case <-done:
			finished = true
		default:
			// Some messages, replayed or live, unless the sender finishes
			// first and this connection is already caught up.
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			go func() {
				select {
				case <-done:
					cancel()
				case <-ctx.Done():
				}
			}()
			s.peer.WaitWritten(ctx, 1)
			cancel()
		}
		if finished {
			waitWritten(t, s.peer, total-len(cl.got))
		}
		cl.take(t, s.disconnect(t))
		if finished {
			t.Logf("%d reconnects", round)
			return cl
		}
	}
}

func TestHistoryReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t, history(3))
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	var cl client
	s := h.connect(t, uc, cl.pos)
	waitWritten(t, s.peer, 1)
	cl.take(t, s.disconnect(t))
	kept := cl.pos
	for i := range 5 { // two more than the history keeps
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for name, after := range map[string]wsmanager.Position{
		"evicted":       kept,
		"another epoch": {Epoch: kept.Epoch + 1, Seq: 5},
		"ahead":         {Epoch: kept.Epoch, Seq: 99},
	} {
		var c client
		s := h.connect(t, uc, after)
		waitWritten(t, s.peer, 1)
		c.take(t, s.disconnect(t))
		if c.resets != 1 || len(c.got) != 0 || c.pos != (wsmanager.Position{Epoch: kept.Epoch, Seq: 5}) {
			t.Errorf("%s: got %q, %d resets, position %v; want only a reset to the head", name, c.got, c.resets, c.pos)
		}
	}
	if st := h.f.Stats(); st.ResumeResets != 3 {
		t.Errorf("ResumeResets = %d, want 3", st.ResumeResets)
	}
}

// TestHistoryThreads: a thread's Manager.Send is replayed to that thread's
// connections only; SendToUser to all of the user's.
func TestHistoryThreads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, history(100))
	ctx := context.Background()
	a := wsmanager.UserContext{UserID: "u", ThreadID: "a"}
	b := wsmanager.UserContext{UserID: "u", ThreadID: "b"}
	var ca, cb client
	for _, x := range []struct {
		uc wsmanager.UserContext
		cl *client
	}{{a, &ca}, {b, &cb}} {
		s := h.connect(t, x.uc, wsmanager.Position{})
		waitWritten(t, s.peer, 1)
		x.cl.take(t, s.disconnect(t))
	}
	ma, _ := h.f.Manager(a)
	if _, err := ma.Send(ctx, []byte("to a")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.f.SendToUser(ctx, "u", []byte("to u")); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		uc   wsmanager.UserContext
		cl   *client
		want []string
	}{{a, &ca, []string{"to a", "to u"}}, {b, &cb, []string{"to u"}}} {
		s := h.connect(t, x.uc, x.cl.pos)
		waitWritten(t, s.peer, len(x.want))
		x.cl.take(t, s.disconnect(t))
		if diff := cmp.Diff(x.want, x.cl.got); diff != "" {
			t.Errorf("thread %s got (-want +got):\n%s", x.uc.ThreadID, diff)
		}
	}
}

func TestHistoryBounds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, wsmanager.Options{
			History:     wsmanager.HistoryOptions{Messages: 100, Bytes: 64, MaxAge: time.Minute},
			IdleTimeout: time.Hour,
		})
		ctx := context.Background()
		uc := wsmanager.UserContext{UserID: "u"}
		cl := firstConnection(t, h, uc)
		resumeGets := func() ([]string, int) {
			var c client
			c.pos = cl.pos
			s := h.connect(t, uc, c.pos)
			synctest.Wait()
			c.take(t, s.disconnect(t))
			return c.got, c.resets
		}
		big := strings.Repeat("x", 30) // framed, about 50 bytes: one fits in 64
		for _, m := range []string{"old", big} {
			if _, err := h.f.SendToUser(ctx, "u", []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		if got, resets := resumeGets(); resets != 1 || len(got) != 0 {
			t.Errorf("after the byte bound evicted a message: %q, %d resets; want a reset", got, resets)
		}
		cl.pos.Seq++ // the client saw "old"
		if got, resets := resumeGets(); resets != 0 || len(got) != 1 || got[0] != big {
			t.Errorf("resuming after the evicted message: %q, %d resets; want the kept one", got, resets)
		}
		time.Sleep(time.Minute + time.Second)
		if _, err := h.f.SendToUser(ctx, "u", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if got, resets := resumeGets(); resets != 1 || len(got) != 0 {
			t.Errorf("after MaxAge: %q, %d resets; want a reset", got, resets)
		}
	})
}

// TestHistoryReleased: a user's stream goes away IdleTimeout after the user
// had no Manager left, and a client of the old stream gets a reset.
func TestHistoryReleased(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		h := newHarness(t, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 10}, IdleTimeout: idle})
		uc := wsmanager.UserContext{UserID: "u"}
		cl := firstConnection(t, h, uc)
		time.Sleep(3 * idle)
		synctest.Wait()
		var again client
		s := h.connect(t, uc, cl.pos)
		synctest.Wait()
		again.take(t, s.disconnect(t))
		if again.resets != 1 || again.pos.Epoch == cl.pos.Epoch {
			t.Errorf("after the stream was released: %d resets, epoch %x (was %x); want a reset into a new epoch", again.resets, again.pos.Epoch, cl.pos.Epoch)
		}
	})
}

func TestParsePosition(t *testing.T) {
	t.Parallel()
	for _, p := range []wsmanager.Position{{}, {Epoch: 1, Seq: 0}, {Epoch: 0x9f86d081884c7d65, Seq: 42}, {Epoch: ^uint64(0), Seq: ^uint64(0)}} {
		got, err := wsmanager.ParsePosition(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePosition(%q) = %v, %v", p.String(), got, err)
		}
	}
	for _, bad := range []string{"x", "1", "1.", ".1", "g.1", "1.-1", "1.1.1", strings.Repeat("1", 50)} {
		if _, err := wsmanager.ParsePosition(bad); !errors.Is(err, wsmanager.ErrInvalidPosition) {
			t.Errorf("ParsePosition(%q) = %v, want ErrInvalidPosition", bad, err)
		}
	}
}
