package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestClosesDeliver checks that Connection.Close, Manager.Close and
// Factory.Close write what was queued before them to a peer still reading,
// in order, before the close frame, and that everything is counted.
func TestClosesDeliver(t *testing.T) {
	t.Parallel()
	const queued = 1000
	tests := []struct {
		name     string
		close    func(t *testing.T, h *harness, s *served) <-chan error
		wantCode int
	}{
		{"connection", func(t *testing.T, h *harness, s *served) <-chan error {
			return done(s.c.Close(4000, "bye"))
		}, 4000},
		{"manager", func(t *testing.T, h *harness, s *served) <-chan error {
			m, ok := h.f.Lookup(s.c.User())
			if !ok {
				t.Fatal("no manager")
			}
			return done(m.Close(4000, "bye"))
		}, 4000},
		{"factory", func(t *testing.T, h *harness, s *served) <-chan error {
			errc := make(chan error, 1)
			go func() { errc <- h.f.Close(context.Background()) }()
			return errc
		}, 1001},
	}
	for _, tt := range tests {
		for _, batch := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/batch %v", tt.name, batch), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, wsmanager.Options{QueueSize: 2 * queued})
				var tr wsmanager.Conn = memconn.New(memconn.Options{})
				if batch {
					tr = memconn.NewBatch(memconn.Options{})
				}
				s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, tr, echo())
				s.ready(t)
				writing := s.peer.Block()
				want := msgs(0, queued)
				for _, m := range want {
					if err := s.c.Send(context.Background(), m); err != nil {
						t.Fatal(err)
					}
				}
				<-writing
				closed := tt.close(t, h, s)
				s.peer.Unblock()
				if err := <-closed; err != nil {
					t.Fatalf("Close = %v", err)
				}
				if err := s.wait(t); !errors.Is(err, wsmanager.ErrClosed) {
					t.Errorf("Serve = %v, want ErrClosed", err)
				}
				if diff := cmp.Diff(want, s.peer.Written()); diff != "" {
					t.Errorf("written (-want +got):\n%s", diff)
				}
				if code, _, _ := s.peer.Closed(); code != tt.wantCode {
					t.Errorf("closed with %d, want %d", code, tt.wantCode)
				}
				st := h.f.Stats()
				if st.MessagesWritten != queued || st.MessagesDiscarded != 0 {
					t.Errorf("written %d, discarded %d; want %d, 0", st.MessagesWritten, st.MessagesDiscarded, queued)
				}
			})
		}
	}
}

func done(err error) <-chan error {
	c := make(chan error, 1)
	c <- err
	return c
}

// TestFactoryCloseContextCutsDeliveryShort: a Factory.Close whose ctx ends
// while a peer is not reading stops delivering at once, and what it could
// not write is counted as discarded.
func TestFactoryCloseContextCutsDeliveryShort(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{WriteTimeout: time.Hour, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		writing := peer.Block()
		served := make(chan error, 1)
		go func() { served <- f.Serve(context.Background(), wsmanager.UserContext{UserID: "u"}, peer, echo()) }()
		synctest.Wait()
		for _, m := range msgs(0, 10) {
			if _, err := f.SendToUser(context.Background(), "u", m); err != nil {
				t.Fatal(err)
			}
		}
		<-writing
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := f.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want DeadlineExceeded", err)
		}
		if err := <-served; !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("Serve = %v, want ErrClosed", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("delivery cut short after %v, want the Close's 1s", d)
		}
		if err := f.Close(context.Background()); err != nil {
			t.Errorf("second Close = %v", err)
		}
		st := f.Stats()
		if st.MessagesDiscarded != 10 {
			t.Errorf("MessagesDiscarded = %d, want 10", st.MessagesDiscarded)
		}
		checkAccounting(t, st)
	})
}

// TestLookupNeverCreates: server-side paths reach existing threads only, so
// sends to made-up ThreadIDs cannot lock a user out of creating threads.
func TestLookupNeverCreates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{MaxManagersPerUser: 2})
	ctx := context.Background()
	for i := range 50 {
		uc := wsmanager.UserContext{UserID: "u", ThreadID: fmt.Sprint("made-up-", i)}
		if m, ok := h.f.Lookup(uc); ok || m != nil {
			t.Fatalf("Lookup(%v) = %p, %v; want nothing", uc, m, ok)
		}
		if n, err := h.f.SendToUser(ctx, "u", []byte("x")); n != 0 || err != nil {
			t.Fatalf("SendToUser = %d, %v", n, err)
		}
		h.f.Broadcast(ctx, []byte("x"), nil)
	}
	if st := h.f.Stats(); st.ManagersCreated != 0 {
		t.Fatalf("%d managers created by lookups and sends, want 0", st.ManagersCreated)
	}
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u", ThreadID: "real"}, echo())
	s.ready(t)
	m, ok := h.f.Lookup(wsmanager.UserContext{UserID: "u", ThreadID: "real"})
	if !ok || len(m.Connections()) != 1 || m.Connections()[0] != s.c {
		t.Fatal("Lookup did not find the served thread's Manager")
	}
}

// TestNoClosedManagerHandedOut lets the janitor sweep 300,000 idle
// managers while workers call Manager (then Manager.Reserve, as a service
// that accepts its own connections does), Lookup and Factory.Reserve: none
// is handed a closed Manager, none gets ErrClosed from the open Factory. The
// workers run until the janitor has swept every one of the 300,000.
func TestNoClosedManagerHandedOut(t *testing.T) {
	t.Parallel()
	const managers, workers = 300_000, 4
	h := newHarness(t, wsmanager.Options{IdleTimeout: 200 * time.Millisecond, MaxManagersPerUser: 1})
	uc := func(i int) wsmanager.UserContext { return wsmanager.UserContext{UserID: fmt.Sprint("u", i)} }
	for i := range managers {
		if _, err := h.f.Manager(uc(i)); err != nil {
			t.Fatal(err)
		}
	}
	var closedSeen, errClosed, calls atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(testTimeout)
	for w := range workers {
		wg.Go(func() {
			for i := w; h.f.Stats().ManagersRemoved < managers && time.Now().Before(deadline); i = (i + 7919) % managers {
				calls.Add(3)
				m, err := h.f.Manager(uc(i))
				if err != nil {
					t.Error(err)
					return
				}
				if res, err := m.Reserve(context.Background()); errors.Is(err, wsmanager.ErrClosed) {
					closedSeen.Add(1)
				} else if err != nil {
					t.Error(err)
				} else {
					res.Release()
				}
				if m, ok := h.f.Lookup(uc(i + 1)); ok {
					if res, err := m.Reserve(context.Background()); errors.Is(err, wsmanager.ErrClosed) {
						closedSeen.Add(1)
					} else if err == nil {
						res.Release()
					}
				}
				res, err := h.f.Reserve(context.Background(), uc(i))
				switch {
				case errors.Is(err, wsmanager.ErrClosed):
					errClosed.Add(1)
				case err != nil:
					t.Error(err)
				default:
					res.Release()
				}
			}
		})
	}
	wg.Wait()
	if closedSeen.Load() != 0 || errClosed.Load() != 0 {
		t.Errorf("of %d calls: %d closed managers handed out, %d ErrClosed from an open factory", calls.Load(), closedSeen.Load(), errClosed.Load())
	}
	if st := h.f.Stats(); st.ManagersRemoved < managers {
		t.Errorf("the janitor swept %d managers in %v, want at least %d", st.ManagersRemoved, testTimeout, managers)
	}
}

// TestReleaseDiscards: a reservation released before its transport exists
// discards what was queued to it, counted, and ends in Failed.
func TestReleaseDiscards(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	res, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.f.SendToUser(context.Background(), "u", []byte("x")); n != 1 || err != nil {
		t.Fatalf("SendToUser = %d, %v", n, err)
	}
	res.Release()
	if st := res.Connection().Machine().State(); st != statemachine.Failed {
		t.Errorf("state %v, want failed", st)
	}
	if st := h.f.Stats(); st.MessagesDiscarded != 1 || st.ConnsActive != 0 {
		t.Errorf("MessagesDiscarded %d, ConnsActive %d; want 1, 0", st.MessagesDiscarded, st.ConnsActive)
	}
}
