package statemachine_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	sm "github.com/ssotkit/ssot/statemachine"
)

func TestWaitReturnsAtOnceWhenSatisfied(t *testing.T) {
	t.Parallel()
	m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
	s, err := m.Wait(context.Background(), sm.ConnState.IsSetup)
	if err != nil || s != sm.Connecting {
		t.Fatalf("Wait = %v, %v; want connecting, nil", s, err)
	}
}

func TestWaitSeesAStateLeftAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{HistorySize: sm.NoHistory})
		got := make(chan sm.ConnState, 1)
		go func() {
			s, err := m.Wait(context.Background(), func(s sm.ConnState) bool { return s == sm.Accepted })
			if err != nil {
				t.Error(err)
			}
			got <- s
		}()
		synctest.Wait() // the waiter is registered and blocked
		for _, s := range []sm.ConnState{sm.Accepted, sm.Failed} {
			if err := m.Transition(s, ""); err != nil {
				t.Fatal(err)
			}
		}
		if s := <-got; s != sm.Accepted {
			t.Fatalf("Wait = %v, want accepted (entered and left at once)", s)
		}
	})
}

func TestWaitOnAFailingConnectionIsBoundedByTheCaller(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
		ready := func(s sm.ConnState) bool { return s.IsOperational() || s.IsTerminal() }
		got := make(chan sm.ConnState, 1)
		go func() {
			s, _ := m.Wait(context.Background(), ready)
			got <- s
		}()
		synctest.Wait()
		if err := m.Transition(sm.Failed, "handshake"); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != sm.Failed {
			t.Fatalf("Wait = %v, want failed", s)
		}
	})
}

func TestWaitCancellation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// NoHistory: only a registered waiter or observer makes a
		// transition read the clock, which shows in Stats.Since.
		m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{HistorySize: sm.NoHistory})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		s, err := m.Wait(ctx, sm.ConnState.IsOperational)
		if !errors.Is(err, context.DeadlineExceeded) || s != sm.Connecting {
			t.Fatalf("Wait = %v, %v; want connecting, DeadlineExceeded", s, err)
		}
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("Wait returned after %v, want 5s", waited)
		}
		// The cancelled waiter is gone: later transitions do not reach it and
		// the machine takes the clock-free path again.
		if err := m.Transition(sm.Accepted, ""); err != nil {
			t.Fatal(err)
		}
		if since := m.Stats().Since; !since.IsZero() {
			t.Errorf("Stats().Since = %v: the transition read the clock, so the cancelled waiter is still registered", since)
		}

		done, stop := context.WithCancel(context.Background())
		stop()
		if _, err := m.Wait(done, sm.ConnState.IsTerminal); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait on a cancelled context = %v", err)
		}
	})
}

func TestWaitManyWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
		type result struct {
			want, got sm.ConnState
		}
		results := make(chan result, 4)
		for _, want := range []sm.ConnState{sm.Accepted, sm.Authenticated, sm.ServicesReady, sm.ProcessingReady} {
			go func() {
				s, err := m.Wait(context.Background(), func(s sm.ConnState) bool { return s == want })
				if err != nil {
					t.Error(err)
				}
				results <- result{want, s}
			}()
		}
		synctest.Wait()
		for _, s := range []sm.ConnState{sm.Accepted, sm.Authenticated, sm.ServicesReady, sm.ProcessingReady} {
			if err := m.Transition(s, ""); err != nil {
				t.Fatal(err)
			}
		}
		for range 4 {
			if r := <-results; r.got != r.want {
				t.Errorf("waiter for %v got %v", r.want, r.got)
			}
		}
	})
}

func TestWaitPredicatePanicReachesTheWaiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
		recovered := make(chan any, 1)
		go func() {
			defer func() { recovered <- recover() }()
			_, _ = m.Wait(context.Background(), func(s sm.ConnState) bool {
				if s == sm.Accepted {
					panic("predicate bug")
				}
				return false
			})
		}()
		synctest.Wait()
		if err := m.Transition(sm.Accepted, ""); err != nil {
			t.Fatalf("the transition suffered the predicate's panic: %v", err)
		}
		if r := <-recovered; r != "predicate bug" {
			t.Fatalf("waiter recovered %v", r)
		}
		if err := m.Transition(sm.Authenticated, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWaitNilPredicate(t *testing.T) {
	t.Parallel()
	m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
	if _, err := m.Wait(context.Background(), nil); !errors.Is(err, sm.ErrInvalidOptions) {
		t.Fatalf("Wait(nil) = %v, want ErrInvalidOptions", err)
	}
}
