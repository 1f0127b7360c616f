package statemachine_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	sm "github.com/ssotkit/ssot/statemachine"
)

// ring4 is a cycle 0 → 1 → 2 → 3 → 0 over a plain uint8 enum.
func ring4(t testing.TB) *sm.Table[uint8] {
	t.Helper()
	return sm.MustNewTable(map[uint8][]uint8{0: {1}, 1: {2}, 2: {3}, 3: {0}})
}

func newMachine[S sm.Enum](t testing.TB, tab *sm.Table[S], initial S, opts sm.Options) *sm.Machine[S] {
	t.Helper()
	m, err := sm.New(tab, initial, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tab := ring4(t)
	tests := []struct {
		name    string
		tab     *sm.Table[uint8]
		initial uint8
		opts    sm.Options
	}{
		{"nil table", nil, 0, sm.Options{}},
		{"unknown initial state", tab, 9, sm.Options{}},
		{"negative history", tab, 0, sm.Options{HistorySize: -2}},
		{"huge history", tab, 0, sm.Options{HistorySize: sm.MaxHistorySize + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := sm.New(tt.tab, tt.initial, tt.opts)
			if !errors.Is(err, sm.ErrInvalidOptions) || m != nil {
				t.Fatalf("New = %v, %v; want nil, ErrInvalidOptions", m, err)
			}
		})
	}
}

func TestTransitionRejectedByTable(t *testing.T) {
	t.Parallel()
	m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
	err := m.Transition(sm.ProcessingReady, "skip setup")
	var te *sm.TransitionError[sm.ConnState]
	if !errors.As(err, &te) || !errors.Is(err, sm.ErrInvalidTransition) {
		t.Fatalf("err = %v, want *TransitionError wrapping ErrInvalidTransition", err)
	}
	if te.From != sm.Connecting || te.To != sm.ProcessingReady {
		t.Errorf("TransitionError = %+v", te)
	}
	if want := "statemachine: invalid transition from connecting to processing_ready"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if m.State() != sm.Connecting {
		t.Errorf("state changed to %v on a rejected transition", m.State())
	}
	st := m.Stats()
	if st.Transitions != 0 || st.Rejected != 1 {
		t.Errorf("Stats = %+v, want 0 transitions, 1 rejected", st)
	}
	if h := m.History(); len(h) != 0 {
		t.Errorf("History = %v after a rejected transition", h)
	}
}

func TestTransitionFromStale(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	err := m.TransitionFrom(2, 3, "")
	var se *sm.StaleError[uint8]
	if !errors.As(err, &se) || !errors.Is(err, sm.ErrStale) || se.Expected != 2 || se.Actual != 0 {
		t.Fatalf("err = %v, want *StaleError{2, 0} wrapping ErrStale", err)
	}
	if st := m.Stats(); st.Rejected != 0 || st.Transitions != 0 {
		t.Errorf("Stats = %+v: a stale attempt counts as nothing", st)
	}
	if err := m.TransitionFrom(0, 2, ""); !errors.Is(err, sm.ErrInvalidTransition) {
		t.Errorf("TransitionFrom(0, 2) = %v, want ErrInvalidTransition", err)
	}
	if err := m.TransitionFrom(0, 1, ""); err != nil || m.State() != 1 {
		t.Errorf("TransitionFrom(0, 1) = %v, state %v", err, m.State())
	}
}

func TestTransitionFromRaceHasOneWinner(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		m := newMachine(t, sm.ConnTable(), sm.ProcessingReady, sm.Options{})
		const n = 32
		var (
			wg            sync.WaitGroup
			mu            sync.Mutex
			wins, stale   int
			unexpectedErr error
		)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				err := m.TransitionFrom(sm.ProcessingReady, sm.Closing, "shutdown")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, sm.ErrStale):
					stale++
				default:
					unexpectedErr = err
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 || stale != n-1 || unexpectedErr != nil {
			t.Fatalf("round %d: %d wins, %d stale, unexpected %v; want 1 and %d", round, wins, stale, unexpectedErr, n-1)
		}
		if st := m.Stats(); st.Transitions != 1 {
			t.Fatalf("round %d: %d transitions recorded", round, st.Transitions)
		}
	}
}

func TestHistoryIsABoundedRing(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{HistorySize: 3})
	for i := range 10 {
		if err := m.Transition(uint8((i+1)%4), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	got := m.History()
	type step struct {
		From, To uint8
		Reason   string
	}
	var steps []step
	for _, tr := range got {
		steps = append(steps, step{tr.From, tr.To, tr.Reason})
		if tr.At.IsZero() {
			t.Error("a machine with history recorded no time")
		}
	}
	want := []step{{3, 0, "7"}, {0, 1, "8"}, {1, 2, "9"}}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	got[0].Reason = "changed"
	if m.History()[0].Reason != "7" {
		t.Error("History returned the ring itself, not a copy")
	}
	if st := m.Stats(); st.Transitions != 10 {
		t.Errorf("Transitions = %d, want 10", st.Transitions)
	}
}

func TestDefaultHistorySize(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	for i := range 40 {
		if err := m.Transition(uint8((i+1)%4), ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(m.History()); got != sm.DefaultHistorySize {
		t.Errorf("len(History) = %d, want %d", got, sm.DefaultHistorySize)
	}
}

func TestNoHistoryReadsNoClock(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{HistorySize: sm.NoHistory})
	if err := m.Transition(1, ""); err != nil {
		t.Fatal(err)
	}
	if h := m.History(); h != nil {
		t.Errorf("History = %v, want nil", h)
	}
	if st := m.Stats(); !st.Since.IsZero() || st.Transitions != 1 {
		t.Errorf("Stats = %+v, want 1 transition and a zero Since", st)
	}
	// An observer needs the time, so the clock is read while one is registered.
	var seen sm.Transition[uint8]
	remove := m.OnTransition(func(tr sm.Transition[uint8]) { seen = tr })
	if err := m.Transition(2, ""); err != nil {
		t.Fatal(err)
	}
	if seen.At.IsZero() || m.Stats().Since.IsZero() {
		t.Error("with an observer, the transition time was not recorded")
	}
	remove()
	if err := m.Transition(3, ""); err != nil {
		t.Fatal(err)
	}
	if !m.Stats().Since.IsZero() {
		t.Error("Since kept a stale time after the observer left")
	}
}

func TestTransitionTimesFollowTheClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		m := newMachine(t, ring4(t), 0, sm.Options{})
		if !m.Stats().Since.Equal(start) {
			t.Errorf("Since = %v, want creation time %v", m.Stats().Since, start)
		}
		time.Sleep(3 * time.Second)
		if err := m.Transition(1, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := m.Transition(2, ""); err != nil {
			t.Fatal(err)
		}
		h := m.History()
		if !h[0].At.Equal(start.Add(3*time.Second)) || !h[1].At.Equal(start.Add(4*time.Second)) {
			t.Errorf("transition times %v, %v; want +3s, +4s", h[0].At, h[1].At)
		}
		if !m.Stats().Since.Equal(h[1].At) {
			t.Errorf("Since = %v, want %v", m.Stats().Since, h[1].At)
		}
	})
}
