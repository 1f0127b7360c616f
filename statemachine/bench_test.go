package statemachine_test

import (
	"context"
	"testing"

	sm "github.com/ssotkit/ssot/statemachine"
)

func benchTransition(b *testing.B, opts sm.Options, observe bool) {
	m := newMachine(b, sm.ConnTable(), sm.ProcessingReady, opts)
	if observe {
		n := 0
		m.OnTransition(func(sm.Transition[sm.ConnState]) { n++ })
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		to := sm.Processing
		if i&1 == 1 {
			to = sm.Idle
		}
		if err := m.Transition(to, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransitionNoHistory is the cost of one accepted transition on a
// machine that keeps no history and has no observers or waiters: no clock
// read, no allocation.
func BenchmarkTransitionNoHistory(b *testing.B) {
	benchTransition(b, sm.Options{HistorySize: sm.NoHistory}, false)
}

// BenchmarkTransitionHistory is the same with the default 16-entry history,
// which reads the clock once per transition and, once its ring is full,
// allocates nothing.
func BenchmarkTransitionHistory(b *testing.B) {
	benchTransition(b, sm.Options{}, false)
}

// BenchmarkTransitionObserved adds one registered observer.
func BenchmarkTransitionObserved(b *testing.B) {
	benchTransition(b, sm.Options{HistorySize: sm.NoHistory}, true)
}

// BenchmarkTransitionObservedFirst has the observer given to NewObserved
// instead: no allocation either.
func BenchmarkTransitionObservedFirst(b *testing.B) {
	n := 0
	m, err := sm.NewObserved(sm.ConnTable(), sm.ProcessingReady, sm.Options{HistorySize: sm.NoHistory}, observerFunc[sm.ConnState](func(sm.Transition[sm.ConnState]) { n++ }))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		to := sm.Processing
		if i&1 == 1 {
			to = sm.Idle
		}
		if err := m.Transition(to, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkState(b *testing.B) {
	m := newMachine(b, sm.ConnTable(), sm.ProcessingReady, sm.Options{})
	b.ReportAllocs()
	var s sm.ConnState
	for b.Loop() {
		s = m.State()
	}
	_ = s
}

func BenchmarkStateParallel(b *testing.B) {
	m := newMachine(b, sm.ConnTable(), sm.ProcessingReady, sm.Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var s sm.ConnState
		for pb.Next() {
			s = m.State()
		}
		_ = s
	})
}

func BenchmarkWaitSatisfied(b *testing.B) {
	m := newMachine(b, sm.ConnTable(), sm.ProcessingReady, sm.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Wait(ctx, sm.ConnState.IsOperational); err != nil {
			b.Fatal(err)
		}
	}
}
