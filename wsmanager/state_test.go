package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestObserverPanicIsContained: an observer registered in OnConnect that
// panics on Closing, and one that panics on a handler's transition, never
// reach a goroutine of the package or the handler: the panic goes to
// OnPanic, the connection closes with 1011 (or as it was closing), and
// Serve returns.
func TestObserverPanicIsContained(t *testing.T) {
	t.Parallel()
	for _, on := range []statemachine.ConnState{statemachine.Closing, statemachine.Idle} {
		t.Run(on.String(), func(t *testing.T) {
			t.Parallel()
			var panics atomic.Int64
			h := newHarness(t, wsmanager.Options{
				OnConnect: func(c *wsmanager.Connection) {
					c.OnTransition(func(tr statemachine.Transition[statemachine.ConnState]) {
						if tr.To == on {
							panic(fmt.Sprint("observer on ", on))
						}
					})
				},
				OnPanic: func(_ *wsmanager.Connection, r any) { panics.Add(1) },
			})
			s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, wsmanager.HandlerFunc(
				func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
					return c.SetIdle()
				}))
			s.ready(t)
			if on == statemachine.Closing {
				if err := s.c.Close(4000, "bye"); err != nil {
					t.Fatal(err)
				}
			} else {
				s.peer.Push([]byte("go idle"))
			}
			err := s.wait(t)
			code, _, _ := s.peer.Closed()
			switch on {
			case statemachine.Closing:
				if code != 4000 || !errors.Is(err, wsmanager.ErrClosed) {
					t.Errorf("closed with %d, Serve %v; want 4000 and ErrClosed: the close went on", code, err)
				}
			default:
				if code != wsmanager.CodeInternalError || !errors.Is(err, wsmanager.ErrObserverPanic) {
					t.Errorf("closed with %d, Serve %v; want 1011 and ErrObserverPanic", code, err)
				}
			}
			if panics.Load() != 1 || h.f.Stats().ObserverPanics != 1 {
				t.Errorf("OnPanic called %d times, ObserverPanics %d; want 1, 1", panics.Load(), h.f.Stats().ObserverPanics)
			}
		})
	}
}

// TestPauseStopsTheWriterUntilResume: once Pause returns, nothing more is
// written, whatever is sent; Resume writes what waited, in order.
func TestPauseStopsTheWriterUntilResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	ctx := context.Background()
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	if err := s.c.Pause(); err != nil {
		t.Fatal(err)
	}
	if got := s.c.State(); got != statemachine.Reconnecting {
		t.Fatalf("state %v after Pause, want reconnecting", got)
	}
	before := s.peer.Count()
	for i := range 100 {
		if err := s.c.Send(ctx, fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.peer.Count(); got != before {
		t.Errorf("%d messages written while paused", got-before)
	}
	if got := s.c.Pending(); got != 100 {
		t.Errorf("pending %d while paused, want 100", got)
	}
	if err := s.c.Resume(); err != nil {
		t.Fatal(err)
	}
	if got := s.peer.WaitWritten(ctxTimeout(t), before+100); got != before+100 {
		t.Fatalf("written %d after Resume, want %d", got, before+100)
	}
	w := s.peer.Written()
	for i, m := range w[before:] {
		if string(m) != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: out of order", i, m)
		}
	}
}

// TestPauseUnderABusySender: a Pause while another goroutine keeps the
// queue busy takes effect before the next batch: after it returns, at most
// the batch the writer had taken is still written.
func TestPauseUnderABusySender(t *testing.T) {
	t.Parallel()
	// Room for what the sender queues while the writer is slowed by the
	// race detector and a loaded machine: a full queue would close the
	// connection, which is not what this test is about.
	h := newHarness(t, wsmanager.Options{QueueSize: 1 << 20, QueueBytes: 256 << 20})
	ctx := context.Background()
	s := h.serveConn(t, ctx, wsmanager.UserContext{UserID: "u"}, memconn.NewBatch(memconn.Options{}), echo())
	s.ready(t)
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for {
			select {
			case <-stop:
				return
			default:
				_ = s.c.Send(ctx, []byte("x"))
			}
		}
	}()
	for s.peer.Count() < 1000 {
		s.peer.WaitWritten(ctxTimeout(t), s.peer.Count()+1)
	}
	if err := s.c.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := s.peer.Calls()
	close(stop)
	<-sent
	if got := s.peer.Calls(); got > paused+1 {
		t.Errorf("%d write calls after Pause returned, want at most the one under way", got-paused)
	}
	if err := s.c.Resume(); err != nil {
		t.Fatal(err)
	}
}

// TestVerbsRefusedOnceClosing: the verbs return ErrClosed once the
// connection is closing, and an invalid move's error otherwise.
func TestVerbsRefusedOnceClosing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	res, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Connection().SetIdle(); !errors.Is(err, statemachine.ErrInvalidTransition) {
		t.Errorf("SetIdle while connecting = %v, want ErrInvalidTransition", err)
	}
	res.Release()
	for name, verb := range map[string]func() error{
		"SetIdle": res.Connection().SetIdle, "SetProcessing": res.Connection().SetProcessing,
		"SetDegraded": res.Connection().SetDegraded, "Pause": res.Connection().Pause, "Resume": res.Connection().Resume,
	} {
		if err := verb(); !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("%s after Release = %v, want ErrClosed", name, err)
		}
	}
}
