package statemachine_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	sm "github.com/ssotkit/ssot/statemachine"
)

type edge struct{ From, To sm.ConnState }

func recorder() (*[]edge, *sync.Mutex, func(sm.Transition[sm.ConnState])) {
	var (
		mu  sync.Mutex
		got []edge
	)
	return &got, &mu, func(tr sm.Transition[sm.ConnState]) {
		mu.Lock()
		got = append(got, edge{tr.From, tr.To})
		mu.Unlock()
	}
}

func TestObserversSeeAGapFreeOrderedSequenceUnderContention(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{HistorySize: sm.NoHistory})
	var (
		mu  sync.Mutex
		got []sm.Transition[uint8]
	)
	m.OnTransition(func(tr sm.Transition[uint8]) {
		mu.Lock()
		got = append(got, tr)
		mu.Unlock()
	})
	// A second observer must see exactly as many.
	var visible atomic.Int64
	m.OnTransition(func(tr sm.Transition[uint8]) {
		visible.Add(1)
	})
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	cycleConcurrently(t, &wg, m, goroutines, each)
	wg.Wait()
	// Every Transition call has returned, so every notification has been
	// delivered by one of them.
	if len(got) != goroutines*each || visible.Load() != goroutines*each {
		t.Fatalf("observers saw %d and %d transitions, want %d", len(got), visible.Load(), goroutines*each)
	}
	for i, tr := range got {
		if want := uint8(i % 4); tr.From != want || tr.To != (want+1)%4 {
			t.Fatalf("notification %d is %d→%d, want %d→%d: out of order or missing", i, tr.From, tr.To, want, (want+1)%4)
		}
	}
}

func TestObserverMayTransitionTheSameMachine(t *testing.T) {
	t.Parallel()
	m := newMachine(t, sm.ConnTable(), sm.Connecting, sm.Options{})
	got, _, record := recorder()
	// The first observer drives setup forward on each step; the second records.
	m.OnTransition(func(tr sm.Transition[sm.ConnState]) {
		next := map[sm.ConnState]sm.ConnState{
			sm.Accepted:      sm.Authenticated,
			sm.Authenticated: sm.ServicesReady,
			sm.ServicesReady: sm.ProcessingReady,
		}
		if to, ok := next[tr.To]; ok {
			if err := m.Transition(to, "observer"); err != nil {
				t.Error(err)
			}
		}
	})
	m.OnTransition(record)
	if err := m.Transition(sm.Accepted, ""); err != nil {
		t.Fatal(err)
	}
	want := []edge{
		{sm.Connecting, sm.Accepted},
		{sm.Accepted, sm.Authenticated},
		{sm.Authenticated, sm.ServicesReady},
		{sm.ServicesReady, sm.ProcessingReady},
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if m.State() != sm.ProcessingReady {
		t.Errorf("state = %v, want processing_ready", m.State())
	}
}

func TestObserverRemoval(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var calls atomic.Int32
	var remove func()
	remove = m.OnTransition(func(sm.Transition[uint8]) {
		calls.Add(1)
		remove() // from inside the observer itself
	})
	var other atomic.Int32
	removeOther := m.OnTransition(func(sm.Transition[uint8]) { other.Add(1) })
	for i := range 3 {
		if err := m.Transition(uint8(i+1), ""); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("self-removing observer called %d times, want 1", calls.Load())
	}
	if other.Load() != 3 {
		t.Errorf("other observer called %d times, want 3", other.Load())
	}
	removeOther()
	removeOther() // idempotent
	remove()
	if err := m.Transition(0, ""); err != nil {
		t.Fatal(err)
	}
	if other.Load() != 3 {
		t.Error("a removed observer was called")
	}
	m.OnTransition(nil)() // registers nothing; remove is a no-op
}

func TestObserverSeesOnlyLaterTransitions(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var late []uint8
	var removeLate func()
	m.OnTransition(func(tr sm.Transition[uint8]) {
		if tr.To == 1 {
			// Registered while the 0→1 notification is being delivered and
			// 1→2 is already queued: it must see 1→2 and not 0→1.
			if err := m.Transition(2, ""); err != nil {
				t.Error(err)
			}
			removeLate = m.OnTransition(func(tr sm.Transition[uint8]) { late = append(late, tr.To) })
		}
	})
	if err := m.Transition(1, ""); err != nil {
		t.Fatal(err)
	}
	defer removeLate()
	if diff := cmp.Diff([]uint8(nil), late); diff != "" {
		t.Errorf("late observer saw transitions made before it registered (-want +got):\n%s", diff)
	}
	if err := m.Transition(3, ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint8{3}, late); diff != "" {
		t.Errorf("late observer (-want +got):\n%s", diff)
	}
}

func TestObserverPanicIsReraisedAfterDelivery(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var before, after atomic.Int32
	m.OnTransition(func(sm.Transition[uint8]) { before.Add(1) })
	removeBad := m.OnTransition(func(tr sm.Transition[uint8]) {
		if tr.To == 1 {
			panic("observer bug")
		}
	})
	m.OnTransition(func(sm.Transition[uint8]) { after.Add(1) })

	func() {
		defer func() {
			if r := recover(); r != "observer bug" {
				t.Errorf("recovered %v, want the observer's panic value", r)
			}
		}()
		_ = m.Transition(1, "")
		t.Error("Transition returned normally after an observer panicked")
	}()
	if m.State() != 1 || before.Load() != 1 || after.Load() != 1 {
		t.Fatalf("state %v, observers called %d and %d times; the transition and delivery must stand", m.State(), before.Load(), after.Load())
	}
	removeBad()
	if err := m.Transition(2, ""); err != nil {
		t.Fatalf("machine unusable after an observer panic: %v", err)
	}
	if before.Load() != 2 || after.Load() != 2 {
		t.Errorf("observers called %d and %d times after recovery, want 2", before.Load(), after.Load())
	}
}

func TestObserverGoexitLeavesTheMachineUsable(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var seen atomic.Int32
	remove := m.OnTransition(func(tr sm.Transition[uint8]) {
		if tr.To == 1 {
			runtime.Goexit()
		}
	})
	m.OnTransition(func(sm.Transition[uint8]) { seen.Add(1) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Transition(1, "")
	}()
	<-done
	remove()
	if err := m.Transition(2, ""); err != nil {
		t.Fatal(err)
	}
	if m.State() != 2 || seen.Load() < 1 {
		t.Fatalf("state %v, deliveries %d: the machine stopped delivering after Goexit", m.State(), seen.Load())
	}
}

func TestObserverRunsAfterTheStateIsVisibleWithNoLockHeld(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var calls int
	m.OnTransition(func(tr sm.Transition[uint8]) {
		calls++
		if got := m.State(); got != tr.To {
			t.Errorf("observer of %d→%d ran while State() = %d", tr.From, tr.To, got)
		}
		// Each of these takes the machine's lock: they would deadlock if
		// the observer ran with it held.
		if st := m.Stats(); st.Transitions != uint64(calls) {
			t.Errorf("Stats().Transitions = %d in observer call %d", st.Transitions, calls)
		}
		if h := m.History(); len(h) == 0 || h[len(h)-1].To != tr.To {
			t.Errorf("History() in the observer does not end with its transition: %v", h)
		}
	})
	for i := range 4 {
		if err := m.Transition(uint8((i+1)%4), ""); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 4 {
		t.Errorf("observer called %d times, want 4", calls)
	}
}

// TestObserverRemovalFromAnotherGoroutine removes an observer from another
// goroutine while transitions keep coming: the delivery under way when
// remove is called is the last one to reach it.
func TestObserverRemovalFromAnotherGoroutine(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{HistorySize: sm.NoHistory})
	const removeAt = 100
	var (
		calls   atomic.Int64
		halfway = make(chan struct{})
		removed = make(chan struct{})
	)
	remove := m.OnTransition(func(sm.Transition[uint8]) {
		if calls.Add(1) == removeAt {
			// Hold this delivery open while another goroutine removes
			// the observer; the transitioners keep queueing meanwhile.
			close(halfway)
			<-removed
		}
	})
	const goroutines, each = 4, 200
	var wg sync.WaitGroup
	cycleConcurrently(t, &wg, m, goroutines, each)
	wg.Go(func() {
		<-halfway
		remove()
		close(removed)
	})
	wg.Wait()
	for i := range 8 {
		s := m.State()
		if err := m.Transition((s+1)%4, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load(); got != removeAt {
		t.Errorf("observer called %d times, want %d: it was called after remove returned", got, removeAt)
	}
	if st := m.Stats(); st.Transitions != goroutines*each+8 {
		t.Errorf("Transitions = %d, want %d", st.Transitions, goroutines*each+8)
	}
}

// TestObserverRemovedByAnEarlierObserver: an observer removed while a
// notification is being delivered to the ones before it does not receive
// that notification, though it was registered when the transition happened.
func TestObserverRemovedByAnEarlierObserver(t *testing.T) {
	t.Parallel()
	m := newMachine(t, ring4(t), 0, sm.Options{})
	var removeLater func()
	m.OnTransition(func(sm.Transition[uint8]) { removeLater() })
	var later atomic.Int32
	removeLater = m.OnTransition(func(sm.Transition[uint8]) { later.Add(1) })
	for i := range 3 {
		if err := m.Transition(uint8(i+1), ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := later.Load(); n != 0 {
		t.Errorf("removed observer called %d times, want 0", n)
	}
}

// cycleConcurrently starts goroutines that each make exactly each successful
// transitions around the 4-state cycle 0→1→2→3→0, racing one another through
// TransitionFrom; a loser retries from the state it finds.
func cycleConcurrently(t *testing.T, wg *sync.WaitGroup, m *sm.Machine[uint8], goroutines, each int) {
	t.Helper()
	for range goroutines {
		wg.Go(func() {
			for done := 0; done < each; {
				s := m.State()
				if err := m.TransitionFrom(s, (s+1)%4, ""); err == nil {
					done++
				} else if !errors.Is(err, sm.ErrStale) {
					t.Error(err)
					return
				}
			}
		})
	}
}

// TestOnPanicContainsObserverPanics: with Options.OnPanic, every observer's
// panic is handed to it, none reaches the goroutine that made the
// transition, and every observer still sees every transition.
func TestOnPanicContainsObserverPanics(t *testing.T) {
	t.Parallel()
	var got []any
	m, err := sm.New(sm.ConnTable(), sm.Connecting, sm.Options{OnPanic: func(r any) { got = append(got, r) }})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	m.OnTransition(func(sm.Transition[sm.ConnState]) { panic("first") })
	m.OnTransition(func(sm.Transition[sm.ConnState]) { seen++ })
	m.OnTransition(func(sm.Transition[sm.ConnState]) { panic("third") })
	if err := m.Transition(sm.Accepted, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.Transition(sm.Authenticated, ""); err != nil {
		t.Fatal(err)
	}
	if want := []any{"first", "third", "first", "third"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("OnPanic got %v, want %v", got, want)
	}
	if seen != 2 || m.State() != sm.Authenticated {
		t.Errorf("the other observer saw %d transitions, state %v; want 2, authenticated", seen, m.State())
	}
}

// observerFunc is an Observer made of a function, for the tests.
type observerFunc[S sm.Enum] func(sm.Transition[S])

func (f observerFunc[S]) Transitioned(t sm.Transition[S]) { f(t) }

func TestNewObservedDeliversFirstAndContainsPanics(t *testing.T) {
	t.Parallel()
	var (
		order    []string
		panicked []any
	)
	first := observerFunc[sm.ConnState](func(tr sm.Transition[sm.ConnState]) {
		order = append(order, "first "+tr.To.String())
		if tr.To == sm.Authenticated {
			panic("boom")
		}
	})
	m, err := sm.NewObserved(sm.ConnTable(), sm.Connecting, sm.Options{OnPanic: func(r any) { panicked = append(panicked, r) }}, first)
	if err != nil {
		t.Fatal(err)
	}
	m.OnTransition(func(tr sm.Transition[sm.ConnState]) { order = append(order, "later "+tr.To.String()) })
	for _, to := range []sm.ConnState{sm.Accepted, sm.Authenticated} {
		if err := m.Transition(to, ""); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"first accepted", "later accepted", "first authenticated", "later authenticated"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"boom"}, panicked); diff != "" {
		t.Errorf("panics handed to OnPanic (-want +got):\n%s", diff)
	}
}

func TestNewObservedRejectsAsNew(t *testing.T) {
	t.Parallel()
	if _, err := sm.NewObserved(nil, sm.Connecting, sm.Options{}, observerFunc[sm.ConnState](func(sm.Transition[sm.ConnState]) {})); !errors.Is(err, sm.ErrInvalidOptions) {
		t.Fatalf("NewObserved(nil table) = %v, want ErrInvalidOptions", err)
	}
}

func TestNewObservedCostsNoAllocation(t *testing.T) {
	tab := sm.ConnTable()
	var o observerFunc[sm.ConnState] = func(sm.Transition[sm.ConnState]) {}
	plain := testing.AllocsPerRun(100, func() { _, _ = sm.New(tab, sm.Connecting, sm.Options{}) })
	observed := testing.AllocsPerRun(100, func() { _, _ = sm.NewObserved(tab, sm.Connecting, sm.Options{}, o) })
	if observed != plain {
		t.Fatalf("NewObserved allocates %v times, New %v: registering the observer allocated", observed, plain)
	}
}
