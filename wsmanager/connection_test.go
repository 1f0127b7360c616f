package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

func msgs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, fmt.Appendf(nil, "m%d", i))
	}
	return out
}

// waitWritten waits until peer has n messages written, or fails the test.
func waitWritten(t testing.TB, peer *memconn.Conn, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if got := peer.WaitWritten(ctx, n); got < n {
		t.Fatalf("%d messages written, want %d", got, n)
	}
}

func TestConnectionSendBeforeReady(t *testing.T) {
	t.Parallel()
	peer := memconn.New(memconn.Options{})
	writtenAtReady := -1
	want := msgs(0, 3)
	h := newHarness(t, wsmanager.Options{OnConnect: func(c *wsmanager.Connection) {
		for _, m := range want {
			if err := c.Send(context.Background(), m); err != nil {
				t.Errorf("Send before ready: %v", err)
			}
		}
		c.Machine().OnTransition(func(tr statemachine.Transition[statemachine.ConnState]) {
			if tr.To == statemachine.ProcessingReady {
				writtenAtReady = peer.Count()
			}
		})
	}})
	s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, peer, echo())
	s.ready(t)
	waitWritten(t, s.peer, len(want))
	if diff := cmp.Diff(want, s.peer.Written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if writtenAtReady != 0 {
		t.Errorf("%d messages written before ProcessingReady, want 0", writtenAtReady)
	}
}

// TestConnectionQueueFreesPerMessage checks that QueueSize counts messages
// waiting for the transport: with three written and one inside a Write that
// the peer holds, the queue still has room for QueueSize more, and neither
// Send nor CloseSlow treats the healthy connection as full.
func TestConnectionQueueFreesPerMessage(t *testing.T) {
	t.Parallel()
	const queue = 4
	h := newHarness(t, wsmanager.Options{QueueSize: queue, OnFull: wsmanager.CloseSlow})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	ctx := context.Background()
	all := msgs(0, 3+1+queue)
	for _, m := range all[:3] {
		if err := s.c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	waitWritten(t, s.peer, 3)
	writing := s.peer.Block()
	if err := s.c.Send(ctx, all[3]); err != nil {
		t.Fatal(err)
	}
	<-writing
	for _, m := range all[4:] {
		if err := s.c.Send(ctx, m); err != nil {
			t.Fatalf("Send with %d waiting: %v", s.c.Pending(), err)
		}
	}
	if got := s.c.Pending(); got != queue {
		t.Errorf("Pending = %d, want %d", got, queue)
	}
	s.peer.Unblock()
	waitWritten(t, s.peer, len(all))
	if diff := cmp.Diff(all, s.peer.Written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if got := s.c.Pending(); got != 0 {
		t.Errorf("Pending = %d after everything was written, want 0", got)
	}
}

func TestConnectionOnFull(t *testing.T) {
	t.Parallel()
	const queue = 4
	// m0 is inside a Write the peer holds; m1–m4 fill the queue; m5–m9
	// find it full.
	tests := []struct {
		name          string
		policy        wsmanager.FullPolicy
		wantErrs      int
		wantWritten   [][]byte
		wantDropped   uint64
		wantDiscarded uint64
		wantClose     int
	}{
		{"drop newest", wsmanager.DropNewest, 5, msgs(0, 5), 5, 0, 0},
		{"drop oldest", wsmanager.DropOldest, 0, append(msgs(0, 1), msgs(6, 10)...), 5, 0, 0},
		// m5 closes the connection; m0's Write is abandoned, m1–m5 are
		// discarded; m6–m9 are refused as closed and counted nowhere.
		{"close slow", wsmanager.CloseSlow, 5, nil, 0, 6, 1008},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, wsmanager.Options{QueueSize: queue, OnFull: tt.policy})
			uc := wsmanager.UserContext{UserID: "u"}
			slow := h.serve(t, context.Background(), uc, echo())
			fast := h.serve(t, context.Background(), uc, echo())
			slow.ready(t)
			fast.ready(t)
			blocked := slow.peer.Block()
			ctx := context.Background()
			all := msgs(0, 10)
			if err := slow.c.Send(ctx, all[0]); err != nil {
				t.Fatal(err)
			}
			<-blocked
			errs := 0
			for i, m := range all[1:] {
				err := slow.c.Send(ctx, m)
				switch {
				case errors.Is(err, wsmanager.ErrQueueFull):
					errs++
				case errors.Is(err, wsmanager.ErrClosed) && tt.policy == wsmanager.CloseSlow:
					errs++
				case err != nil:
					t.Fatalf("Send: %v", err)
				}
				// The fast peer reads each message before the next: its
				// queue is as small as the slow one's.
				if err := fast.c.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
				waitWritten(t, fast.peer, i+1)
			}
			if errs != tt.wantErrs {
				t.Errorf("%d Sends failed, want %d", errs, tt.wantErrs)
			}
			if tt.wantClose != 0 {
				if err := slow.wait(t); !errors.Is(err, wsmanager.ErrQueueFull) {
					t.Errorf("Serve = %v, want ErrQueueFull", err)
				}
				code, reason, _ := slow.peer.Closed()
				if code != tt.wantClose || reason != "slow consumer" {
					t.Errorf("closed with %d %q, want %d %q", code, reason, tt.wantClose, "slow consumer")
				}
				if got := slow.c.Machine().State(); got != statemachine.Failed {
					t.Errorf("state %v, want failed", got)
				}
				if got := h.f.Stats().SlowCloses; got != 1 {
					t.Errorf("SlowCloses = %d, want 1", got)
				}
			} else {
				slow.peer.Unblock()
				waitWritten(t, slow.peer, len(tt.wantWritten))
				if diff := cmp.Diff(tt.wantWritten, slow.peer.Written()); diff != "" {
					t.Errorf("slow connection got (-want +got):\n%s", diff)
				}
			}
			st := h.f.Stats()
			if st.MessagesDropped != tt.wantDropped || st.MessagesDiscarded != tt.wantDiscarded {
				t.Errorf("MessagesDropped, MessagesDiscarded = %d, %d; want %d, %d",
					st.MessagesDropped, st.MessagesDiscarded, tt.wantDropped, tt.wantDiscarded)
			}
			waitWritten(t, fast.peer, 9)
			if diff := cmp.Diff(all[1:], fast.peer.Written()); diff != "" {
				t.Errorf("fast connection got (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConnectionQueueBytes checks the byte bound: it applies behind the
// first waiting message, so a message larger than the bound is still
// written alone.
func TestConnectionQueueBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{QueueBytes: 10, OnFull: wsmanager.DropNewest})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	ctx := context.Background()
	writing := s.peer.Block()
	if err := s.c.Send(ctx, []byte("held")); err != nil {
		t.Fatal(err)
	}
	<-writing
	big := make([]byte, 64)
	if err := s.c.Send(ctx, big); err != nil {
		t.Fatalf("a message over QueueBytes into an empty queue: %v", err)
	}
	if err := s.c.Send(ctx, []byte("x")); !errors.Is(err, wsmanager.ErrQueueFull) {
		t.Fatalf("Send behind %d waiting bytes = %v, want ErrQueueFull", len(big), err)
	}
	s.peer.Unblock()
	waitWritten(t, s.peer, 2)
	if err := s.c.Send(ctx, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, s.peer, 3)
}

func TestConnectionWriteTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = 5 * time.Second
		h := newHarness(t, wsmanager.Options{WriteTimeout: timeout})
		uc := wsmanager.UserContext{UserID: "u"}
		stuck := h.serve(t, context.Background(), uc, echo())
		other := h.serve(t, context.Background(), uc, echo())
		stuck.ready(t)
		other.ready(t)
		stuck.peer.Block()

		start := time.Now()
		for _, m := range msgs(0, 3) {
			if n, err := h.f.SendToUser(context.Background(), "u", m); n != 2 || err != nil {
				t.Fatalf("SendToUser = %d, %v; want 2, nil", n, err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("SendToUser took %v with a stuck connection, want no delay", d)
		}
		synctest.Wait()
		if diff := cmp.Diff(msgs(0, 3), other.peer.Written()); diff != "" {
			t.Errorf("other connection got (-want +got):\n%s", diff)
		}

		time.Sleep(timeout - time.Nanosecond)
		synctest.Wait()
		if _, _, closed := stuck.peer.Closed(); closed {
			t.Fatal("stuck connection closed before WriteTimeout")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if _, _, closed := stuck.peer.Closed(); !closed {
			t.Fatal("stuck connection still open at WriteTimeout")
		}
		if err := stuck.wait(t); !errors.Is(err, wsmanager.ErrWriteTimeout) {
			t.Errorf("Serve = %v, want ErrWriteTimeout", err)
		}
		if code, reason, _ := stuck.peer.Closed(); code != 1008 || reason != "write timeout" {
			t.Errorf("closed with %d %q, want 1008 %q", code, reason, "write timeout")
		}
		if _, _, closed := other.peer.Closed(); closed {
			t.Error("a stuck connection closed another")
		}
		if got := h.f.Stats().SlowCloses; got != 1 {
			t.Errorf("SlowCloses = %d, want 1", got)
		}
	})
}

// TestConnectionWriteTimeoutPerWrite checks that the deadline is per write:
// a peer that reads slowly but steadily, each write taking most of
// WriteTimeout, is never cut off.
func TestConnectionWriteTimeoutPerWrite(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = 5 * time.Second
		h := newHarness(t, wsmanager.Options{WriteTimeout: timeout})
		s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
		s.ready(t)
		const n = 5
		for i := range n {
			writing := s.peer.Block()
			if err := s.c.Send(context.Background(), fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Fatal(err)
			}
			<-writing
			time.Sleep(timeout - time.Millisecond)
			s.peer.Unblock()
			synctest.Wait()
		}
		if got := s.peer.Count(); got != n {
			t.Errorf("%d written, want %d", got, n)
		}
		if _, _, closed := s.peer.Closed(); closed {
			t.Error("a steady reader was closed")
		}
	})
}

func TestConnectionWriteError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	boom := errors.New("broken pipe")
	s.peer.FailWrites(boom)
	if err := s.c.Send(context.Background(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); !errors.Is(err, boom) {
		t.Errorf("Serve = %v, want %v", err, boom)
	}
	if got := s.c.Machine().State(); got != statemachine.Failed {
		t.Errorf("state %v, want failed", got)
	}
	if got := h.f.Stats().MessagesDiscarded; got != 1 {
		t.Errorf("MessagesDiscarded = %d, want 1", got)
	}
}

func TestConnectionCloseTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	if err := s.c.Close(1000, "done"); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Close(1000, "again"); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	s.wait(t)
	if err := s.c.Send(context.Background(), []byte("x")); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if code, reason, _ := s.peer.Closed(); code != 1000 || reason != "done" {
		t.Errorf("closed with %d %q, want 1000 %q", code, reason, "done")
	}
	select {
	case <-s.c.Context().Done():
	default:
		t.Error("Context not cancelled after the connection closed")
	}
	if len(s.c.ID()) < 22 {
		t.Errorf("ID %q is too short to be unguessable", s.c.ID())
	}
}

// TestCloseBoundsStuckWrite checks that a write stuck when its connection
// is closed by Manager.Close or Factory.Close gives up at WriteTimeout: a
// peer that stopped reading cannot hold Serve, or Factory.Close, forever.
func TestCloseBoundsStuckWrite(t *testing.T) {
	t.Parallel()
	for _, by := range []string{"manager", "factory"} {
		t.Run(by, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				const timeout = 5 * time.Second
				f, err := wsmanager.NewFactory(wsmanager.Options{WriteTimeout: timeout, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				uc := wsmanager.UserContext{UserID: "u"}
				m, err := f.Manager(uc)
				if err != nil {
					t.Fatal(err)
				}
				peer := memconn.New(memconn.Options{})
				writing := peer.Block()
				done := make(chan error, 1)
				go func() { done <- m.Serve(context.Background(), peer, echo()) }()
				synctest.Wait()
				for _, msg := range msgs(0, 3) {
					if _, err := m.Send(context.Background(), msg); err != nil {
						t.Fatal(err)
					}
				}
				<-writing

				start := time.Now()
				closed := make(chan error, 1)
				if by == "manager" {
					if err := m.Close(1001, "bye"); err != nil {
						t.Fatal(err)
					}
				} else {
					go func() { closed <- f.Close(context.Background()) }()
				}
				if err := <-done; !errors.Is(err, wsmanager.ErrClosed) {
					t.Errorf("Serve = %v, want ErrClosed", err)
				}
				if d := time.Since(start); d != timeout {
					t.Errorf("stuck write given up after %v, want WriteTimeout (%v)", d, timeout)
				}
				if by == "factory" {
					if err := <-closed; err != nil {
						t.Errorf("Factory.Close = %v", err)
					}
				} else if err := f.Close(context.Background()); err != nil {
					t.Errorf("Factory.Close = %v", err)
				}
				if code, _, ok := peer.Closed(); !ok || code != 1001 {
					t.Errorf("closed %v with %d, want 1001", ok, code)
				}
				st := f.Stats()
				if st.MessagesDiscarded != 3 || st.MessagesWritten != 0 {
					t.Errorf("written %d, discarded %d; want 0, 3", st.MessagesWritten, st.MessagesDiscarded)
				}
				checkAccounting(t, st)
			})
		})
	}
}

// TestConnectionBatches checks that a transport implementing BatchConn is
// handed everything waiting in one WriteBatch, in order, at most QueueSize
// at a time.
func TestConnectionBatches(t *testing.T) {
	t.Parallel()
	const queue = 8
	h := newHarness(t, wsmanager.Options{QueueSize: queue})
	tr := memconn.NewBatch(memconn.Options{})
	s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, tr, echo())
	s.ready(t)
	ctx := context.Background()
	writing := s.peer.Block()
	all := msgs(0, 1+queue)
	if err := s.c.Send(ctx, all[0]); err != nil {
		t.Fatal(err)
	}
	<-writing
	for _, m := range all[1:] {
		if err := s.c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	s.peer.Unblock()
	waitWritten(t, s.peer, len(all))
	if diff := cmp.Diff(all, s.peer.Written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, queue}, tr.Batches()); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}
