package statemachine_test

import (
	"errors"
	"testing"

	sm "github.com/ssotkit/ssot/statemachine"
)

// FuzzConnMachine drives a connection machine through arbitrary requested
// transitions and checks it against a model: the state only ever moves along
// the table, History is the tail of the accepted transitions, and Stats counts
// exactly what happened.
func FuzzConnMachine(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 9, 10}, uint8(4))
	f.Add([]byte{11, 0, 1, 11, 0, 4}, uint8(0))
	f.Add([]byte{0x81, 0x82, 0x03, 0xff, 0x07}, uint8(2))
	f.Fuzz(func(t *testing.T, steps []byte, history uint8) {
		size := int(history%8) - 1 // NoHistory, 0 (default) … 6
		m, err := sm.NewConn(sm.Options{HistorySize: size})
		if err != nil {
			t.Fatal(err)
		}
		table := sm.ConnTable()
		var (
			state              = sm.Connecting
			accepted           []sm.Transition[sm.ConnState]
			transitions, rejec uint64
		)
		for _, b := range steps {
			to := sm.ConnState(b & 0x3f % 16) // includes states the table does not know
			var err error
			if b&0x80 != 0 {
				from := sm.ConnState((b >> 4) & 0x07)
				err = m.TransitionFrom(from, to, "fuzz")
				if from != state {
					if !errors.Is(err, sm.ErrStale) {
						t.Fatalf("TransitionFrom(%v, %v) in %v = %v, want ErrStale", from, to, state, err)
					}
					continue
				}
			} else {
				err = m.Transition(to, "fuzz")
			}
			if table.Allows(state, to) {
				if err != nil {
					t.Fatalf("%v → %v refused: %v", state, to, err)
				}
				accepted = append(accepted, sm.Transition[sm.ConnState]{From: state, To: to})
				state = to
				transitions++
			} else {
				if !errors.Is(err, sm.ErrInvalidTransition) {
					t.Fatalf("%v → %v = %v, want ErrInvalidTransition", state, to, err)
				}
				rejec++
			}
			if m.State() != state {
				t.Fatalf("State() = %v, model says %v", m.State(), state)
			}
		}
		st := m.Stats()
		if st.Transitions != transitions || st.Rejected != rejec {
			t.Fatalf("Stats = %+v, model says %d transitions, %d rejected", st, transitions, rejec)
		}
		keep := size
		switch size {
		case sm.NoHistory:
			keep = 0
		case 0:
			keep = sm.DefaultHistorySize
		}
		want := accepted[max(0, len(accepted)-keep):]
		got := m.History()
		if len(got) != len(want) {
			t.Fatalf("History has %d entries, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].From != want[i].From || got[i].To != want[i].To {
				t.Fatalf("History[%d] = %v→%v, want %v→%v", i, got[i].From, got[i].To, want[i].From, want[i].To)
			}
		}
	})
}
