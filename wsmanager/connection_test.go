package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/memconn"
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

func TestConnectionSendBeforeReady(t *testing.T) {
	t.Parallel()
	writtenAtReady := -1
	want := msgs(0, 3)
	h := newHarness(t, wsmanager.Options{OnConnect: func(c *wsmanager.Connection) {
		for _, m := range want {
			if err := c.Send(context.Background(), m); err != nil {
				t.Errorf("Send before ready: %v", err)
			}
		}
		peer := wsmanager.ConnOf(c).(*memconn.Conn)
		c.Machine().OnTransition(func(tr statemachine.Transition[statemachine.ConnState]) {
			if tr.To == statemachine.ProcessingReady {
				writtenAtReady = peer.Count()
			}
		})
	}})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s.peer.WaitWritten(ctx, len(want))
	if diff := cmp.Diff(want, s.peer.Written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if writtenAtReady != 0 {
		t.Errorf("%d messages written before ProcessingReady, want 0", writtenAtReady)
	}
}

func TestConnectionOnFull(t *testing.T) {
	t.Parallel()
	const queue = 4
	tests := []struct {
		name        string
		policy      wsmanager.FullPolicy
		wantErrs    int // Sends after the first that fail with ErrQueueFull
		wantWritten [][]byte
		wantDropped uint64
		wantClose   int
	}{
		// The writer holds m0 in a blocked Write; the queue holds 3 more.
		{"drop newest", wsmanager.DropNewest, 6, msgs(0, 4), 6, 0},
		{"drop oldest", wsmanager.DropOldest, 0, append(msgs(0, 1), msgs(7, 10)...), 6, 0},
		{"close slow", wsmanager.CloseSlow, 6, nil, 0, 1008},
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
				wctx, cancel := context.WithTimeout(ctx, testTimeout)
				fast.peer.WaitWritten(wctx, i+1)
				cancel()
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
				wctx, cancel := context.WithTimeout(ctx, testTimeout)
				defer cancel()
				slow.peer.WaitWritten(wctx, len(tt.wantWritten))
				if diff := cmp.Diff(tt.wantWritten, slow.peer.Written()); diff != "" {
					t.Errorf("slow connection got (-want +got):\n%s", diff)
				}
				if got := h.f.Stats().MessagesDropped; got != tt.wantDropped {
					t.Errorf("MessagesDropped = %d, want %d", got, tt.wantDropped)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, testTimeout)
			defer cancel()
			fast.peer.WaitWritten(wctx, 9)
			if diff := cmp.Diff(all[1:], fast.peer.Written()); diff != "" {
				t.Errorf("fast connection got (-want +got):\n%s", diff)
			}
		})
	}
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

		time.Sleep(timeout - time.Millisecond)
		synctest.Wait()
		if _, _, closed := stuck.peer.Closed(); closed {
			t.Fatal("stuck connection closed before WriteTimeout")
		}
		// The watchdog gives up on a write within a quarter of
		// WriteTimeout after it exceeded it.
		time.Sleep(timeout/4 + time.Millisecond)
		synctest.Wait()
		if _, _, closed := stuck.peer.Closed(); !closed {
			t.Fatal("stuck connection still open at 1.25×WriteTimeout")
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

// TestCloseAbandonsStuckWrite checks that a write stuck when its
// connection is closed by Manager.Close or Factory.Close is abandoned after
// WriteTimeout, although the closed Manager is no longer the factory's: a
// peer that stopped reading cannot hold Serve, or Factory.Close, forever.
func TestCloseAbandonsStuckWrite(t *testing.T) {
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
				if _, err := m.Send(context.Background(), []byte("stuck")); err != nil {
					t.Fatal(err)
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
				if d := time.Since(start); d < timeout || d > timeout*5/4 {
					t.Errorf("stuck write abandoned after %v, want WriteTimeout (%v) to 1.25×", d, timeout)
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
			})
		})
	}
}
