package wsmanager_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestMachineMovedToClosedClosesTransport: MachineTable lets anyone move a
// machine from Closing to Closed. A handler that does so (as one used to
// statemachine.ConnTable would) must still get its connection closed and
// Serve must return: the machine never sits in a terminal state with its
// transport open, and Serve never waits forever.
func TestMachineMovedToClosedClosesTransport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	handler := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		m := c.Machine()
		if err := m.Transition(statemachine.Closing, "done"); err != nil {
			return err
		}
		return m.Transition(statemachine.Closed, "done")
	})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, handler)
	s.ready(t)
	s.peer.Push([]byte("bye"))
	select {
	case <-s.peer.Done():
	case <-time.After(testTimeout):
		t.Fatalf("machine in %v and the transport is still open", s.c.Machine().State())
	}
	// The peer answers the close, as a WebSocket peer does.
	s.peer.PeerCloseCode(1000, "")
	if err := s.wait(t); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

// TestReleaseRacingClose: a reservation released while another goroutine
// closes it (Connection.Close, an expiry, Factory.Close) still ends in
// Failed with everything queued to it counted. The close that wins records
// its request, then moves the machine; Release must not finish in between
// and leave the machine in Connecting or Closing, or a message in the
// queue that nobody will ever write or discard.
func TestReleaseRacingClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{QueueSize: 1})
	uc := wsmanager.UserContext{UserID: "u"}
	ctx := context.Background()
	for i := range 50000 {
		res, err := h.f.Reserve(ctx, uc)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Connection()
		var wg sync.WaitGroup
		if i%2 == 0 {
			wg.Go(func() { _ = c.Close(4000, "bye") })
		} else {
			// The second Send finds the queue full: a slow consumer's
			// close, which also cuts the write short on its way.
			wg.Go(func() { _, _ = c.Send(ctx, []byte("x")), c.Send(ctx, []byte("y")) })
		}
		wg.Go(func() { _ = c.Send(ctx, []byte("z")) })
		res.Release()
		wg.Wait()
		if st := c.Machine().State(); st != statemachine.Failed {
			t.Fatalf("round %d: released reservation in %v, want failed", i, st)
		}
		if n := c.Pending(); n != 0 {
			t.Fatalf("round %d: %d messages left in a released reservation's queue", i, n)
		}
	}
}

// TestSlowCloseObserverMayCallFactory: the package promises that no lock is
// held while an observer runs. A slow consumer found by SendToUser is moved
// to Closing on the sender's goroutine, so the observers of that transition
// run there: they must be free to call the Factory, here to create a
// Manager, which takes the Factory's write lock.
func TestSlowCloseObserverMayCallFactory(t *testing.T) {
	t.Parallel()
	testSlowCloseObserver(t, wsmanager.Options{QueueSize: 1}, func(f *wsmanager.Factory) {
		_, _ = f.Manager(wsmanager.UserContext{UserID: "u", ThreadID: "audit"})
	})
}

// TestSlowCloseObserverMaySendWithHistory: with history, SendToUser holds
// the user's stream while it queues; an observer of a slow consumer's close
// that sends to the same user (to tell the user's other tabs, say) must not
// deadlock on it.
func TestSlowCloseObserverMaySendWithHistory(t *testing.T) {
	t.Parallel()
	testSlowCloseObserver(t, wsmanager.Options{QueueSize: 1, History: wsmanager.HistoryOptions{Messages: 10}}, func(f *wsmanager.Factory) {
		_, _ = f.SendToUser(context.Background(), "u", []byte("one of your tabs was too slow"))
	})
}

func testSlowCloseObserver(t *testing.T, opts wsmanager.Options, onClosing func(*wsmanager.Factory)) {
	t.Helper()
	var f *wsmanager.Factory
	opts.OnConnect = func(c *wsmanager.Connection) {
		c.Machine().OnTransition(func(tr statemachine.Transition[statemachine.ConnState]) {
			if tr.To == statemachine.Closing {
				onClosing(f)
			}
		})
	}
	h := newHarness(t, opts)
	f = h.f
	peer := memconn.New(memconn.Options{})
	s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, peer, echo())
	s.ready(t)
	writing := peer.Block()
	sent := make(chan error, 1)
	go func() {
		// The first is taken by the writer and held by the peer, the
		// second fills the queue, the third finds it full.
		for range 3 {
			if _, err := f.SendToUser(context.Background(), "u", []byte("m")); err != nil {
				sent <- err
				return
			}
			if peer.Count() == 0 {
				select {
				case <-writing:
				case <-time.After(testTimeout):
				}
			}
		}
		sent <- nil
	}()
	select {
	case err := <-sent:
		if !errors.Is(err, wsmanager.ErrQueueFull) {
			t.Errorf("SendToUser = %v, want ErrQueueFull", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("SendToUser deadlocked in the slow consumer's close")
	}
	peer.Unblock()
	if err := s.wait(t); !errors.Is(err, wsmanager.ErrQueueFull) {
		t.Errorf("Serve = %v, want ErrQueueFull", err)
	}
}

// TestFactoryCloseWaitsForOnDisconnect: Factory.Close waits for the
// goroutines of Reservation.Go, and OnDisconnect runs on them; Close must
// not return while an OnDisconnect is still running (it would run against
// whatever the service tears down after Close, and outlive the Factory).
func TestFactoryCloseWaitsForOnDisconnect(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		f, err := wsmanager.NewFactory(wsmanager.Options{
			Logger: quietLogger(),
			OnDisconnect: func(*wsmanager.Connection, error) {
				close(entered)
				<-release
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		peer := memconn.New(memconn.Options{})
		if err := res.Go(peer, echo()); err != nil {
			t.Fatal(err)
		}
		peer.PeerCloseCode(1000, "")
		<-entered
		closed := make(chan error, 1)
		go func() { closed <- f.Close(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-closed:
			t.Errorf("Factory.Close returned %v while OnDisconnect was still running", err)
		default:
		}
		close(release)
		synctest.Wait()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("Factory.Close = %v", err)
			}
		default:
			t.Error("Factory.Close did not return once OnDisconnect had")
		}
	})
}

// TestCloseWhileReconnectingDiscards: Reconnecting pauses writing, and a
// close asked for then writes nothing more: what was queued is discarded
// and counted, the close frame still goes out.
func TestCloseWhileReconnectingDiscards(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	m := s.c.Machine()
	for _, st := range []statemachine.ConnState{statemachine.Degraded, statemachine.Reconnecting} {
		if err := m.Transition(st, "dependency down"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.c.Send(context.Background(), []byte("queued while paused")); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	<-s.peer.Done()
	if code, _, _ := s.peer.Closed(); code != 4000 {
		t.Errorf("closed with %d, want 4000", code)
	}
	if n := s.peer.Count(); n != 0 {
		t.Errorf("%d messages written after writing was paused", n)
	}
	if st := h.f.Stats(); st.MessagesDiscarded != 1 {
		t.Errorf("MessagesDiscarded = %d, want 1", st.MessagesDiscarded)
	}
	if err := s.wait(t); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve = %v, want ErrClosed", err)
	}
}
