package bench

import (
	"testing"

	"github.com/ssotkit/ssot/statemachine"
)

// ssotWalk is the lifecycle walk in ConnState values.
var ssotWalk = []statemachine.ConnState{
	statemachine.Connecting,
	statemachine.Accepted,
	statemachine.Authenticated,
	statemachine.ServicesReady,
	statemachine.ProcessingReady,
	statemachine.Processing,
	statemachine.Idle,
	statemachine.Degraded,
	statemachine.Failed,
}

func newSSOTConn(b testing.TB) *statemachine.Conn {
	b.Helper()
	m, err := statemachine.NewConn(statemachine.Options{HistorySize: statemachine.NoHistory})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchStateMachineOurs(b *testing.B) {
	b.Run("serial/ssot", func(b *testing.B) {
		b.ReportAllocs()
		m := newSSOTConn(b)
		i := 0
		for b.Loop() {
			if err := m.Transition(ssotWalk[(i+1)%len(ssotWalk)], ""); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel/ssot", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			m := newSSOTConn(b)
			for i := 0; pb.Next(); i++ {
				if err := m.Transition(ssotWalk[(i+1)%len(ssotWalk)], ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func TestStateMachineSSOTWalk(t *testing.T) {
	t.Parallel()
	m := newSSOTConn(t)
	for i := range 2 * len(ssotWalk) {
		want := ssotWalk[(i+1)%len(ssotWalk)]
		if err := m.Transition(want, ""); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := m.State(); got != want {
			t.Fatalf("step %d: state %v, want %v", i, got, want)
		}
	}
}
