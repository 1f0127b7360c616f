package bench

import (
	"context"
	"testing"

	"github.com/looplab/fsm"
	"github.com/qmuntal/stateless"
)

// newLooplab builds a looplab/fsm machine whose events are named after the
// state they lead to, so the walk fires walk[i+1] from walk[i].
func newLooplab() *fsm.FSM {
	events := make([]fsm.EventDesc, 0, len(walk))
	for i, to := range walk {
		from := walk[(i+len(walk)-1)%len(walk)]
		events = append(events, fsm.EventDesc{Name: to, Src: []string{from}, Dst: to})
	}
	return fsm.NewFSM(walk[0], events, fsm.Callbacks{})
}

// newStateless builds a qmuntal/stateless machine with the same states and
// one trigger per target state.
func newStateless() *stateless.StateMachine {
	sm := stateless.NewStateMachine(walk[0])
	for i, from := range walk {
		to := walk[(i+1)%len(walk)]
		sm.Configure(from).Permit(to, to)
	}
	return sm
}

func walkLooplab(b *testing.B, m *fsm.FSM, i int) {
	if err := m.Event(context.Background(), walk[(i+1)%len(walk)]); err != nil {
		b.Fatal(err)
	}
}

func walkStateless(b *testing.B, m *stateless.StateMachine, i int) {
	if err := m.Fire(walk[(i+1)%len(walk)]); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStateMachine measures one transition of the lifecycle walk,
// serially on one machine and in parallel with one machine per goroutine
// (one per connection, as a server holds them).
func BenchmarkStateMachine(b *testing.B) {
	b.Run("serial/looplab", func(b *testing.B) {
		b.ReportAllocs()
		m := newLooplab()
		i := 0
		for b.Loop() {
			walkLooplab(b, m, i)
			i++
		}
	})
	b.Run("serial/stateless", func(b *testing.B) {
		b.ReportAllocs()
		m := newStateless()
		i := 0
		for b.Loop() {
			walkStateless(b, m, i)
			i++
		}
	})
	b.Run("parallel/looplab", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			m := newLooplab()
			for i := 0; pb.Next(); i++ {
				walkLooplab(b, m, i)
			}
		})
	})
	b.Run("parallel/stateless", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			m := newStateless()
			for i := 0; pb.Next(); i++ {
				walkStateless(b, m, i)
			}
		})
	})
	benchStateMachineOurs(b)
}

// TestStateMachinePeersWalk checks that both peers accept the whole walk
// twice round, so the benchmark measures transitions and not errors.
func TestStateMachinePeersWalk(t *testing.T) {
	t.Parallel()
	l, s := newLooplab(), newStateless()
	for i := range 2 * len(walk) {
		want := walk[(i+1)%len(walk)]
		if err := l.Event(context.Background(), want); err != nil {
			t.Fatalf("looplab step %d: %v", i, err)
		}
		if err := s.Fire(want); err != nil {
			t.Fatalf("stateless step %d: %v", i, err)
		}
		if got := l.Current(); got != want {
			t.Fatalf("looplab step %d: state %q, want %q", i, got, want)
		}
		if got := s.MustState(); got != want {
			t.Fatalf("stateless step %d: state %v, want %q", i, got, want)
		}
	}
}
