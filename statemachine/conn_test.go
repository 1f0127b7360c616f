package statemachine_test

import (
	"fmt"
	"testing"

	sm "github.com/ssotkit/ssot/statemachine"
)

// allowedConn is the connection table written out independently of the
// package: every allowed (from, to) pair.
func allowedConn() map[[2]sm.ConnState]bool {
	a := map[[2]sm.ConnState]bool{}
	add := func(from sm.ConnState, tos ...sm.ConnState) {
		for _, to := range tos {
			a[[2]sm.ConnState{from, to}] = true
		}
	}
	add(sm.Connecting, sm.Accepted, sm.Failed, sm.Closed)
	add(sm.Accepted, sm.Authenticated, sm.Failed, sm.Closed)
	add(sm.Authenticated, sm.ServicesReady, sm.Degraded, sm.Failed, sm.Closed)
	add(sm.ServicesReady, sm.ProcessingReady, sm.Degraded, sm.Failed, sm.Closed)
	add(sm.ProcessingReady, sm.Processing, sm.Idle, sm.Degraded, sm.Closing, sm.Failed, sm.Closed)
	add(sm.Processing, sm.Idle, sm.ProcessingReady, sm.Degraded, sm.Closing, sm.Failed, sm.Closed)
	add(sm.Idle, sm.Processing, sm.ProcessingReady, sm.Degraded, sm.Closing, sm.Failed, sm.Closed)
	add(sm.Degraded, sm.ProcessingReady, sm.Processing, sm.Idle, sm.Reconnecting, sm.Closing, sm.Failed, sm.Closed)
	add(sm.Reconnecting, sm.ServicesReady, sm.ProcessingReady, sm.Degraded, sm.Failed, sm.Closed)
	add(sm.Closing, sm.Closed)
	add(sm.Failed, sm.Connecting)
	return a
}

func TestConnTableAllPairs(t *testing.T) {
	t.Parallel()
	want := allowedConn()
	tab := sm.ConnTable()
	pairs := 0
	for from := range sm.ConnState(12) {
		for to := range sm.ConnState(12) {
			pairs++
			if got := tab.Allows(from, to); got != want[[2]sm.ConnState{from, to}] {
				t.Errorf("Allows(%v, %v) = %v, want %v", from, to, got, !got)
			}
		}
	}
	if pairs != 144 {
		t.Fatalf("checked %d pairs, want 144", pairs)
	}
	if got := len(tab.States()); got != 12 {
		t.Errorf("ConnTable knows %d states, want 12", got)
	}
}

func TestConnTableIsNewEachCall(t *testing.T) {
	t.Parallel()
	a, b := sm.ConnTable(), sm.ConnTable()
	if a == b {
		t.Fatal("ConnTable returned the same table twice")
	}
}

func TestConnStateNamesAndPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s                          sm.ConnState
		name                       string
		setup, operational, ending bool
	}{
		{sm.Connecting, "connecting", true, false, false},
		{sm.Accepted, "accepted", true, false, false},
		{sm.Authenticated, "authenticated", true, false, false},
		{sm.ServicesReady, "services_ready", true, false, false},
		{sm.ProcessingReady, "processing_ready", false, true, false},
		{sm.Processing, "processing", false, true, false},
		{sm.Idle, "idle", false, true, false},
		{sm.Degraded, "degraded", false, true, false},
		{sm.Reconnecting, "reconnecting", false, false, false},
		{sm.Closing, "closing", false, false, false},
		{sm.Closed, "closed", false, false, true},
		{sm.Failed, "failed", false, false, true},
		{sm.ConnState(12), "conn_state(12)", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if got := fmt.Sprint(tt.s); got != tt.name {
				t.Errorf("fmt.Sprint = %q, want %q", got, tt.name)
			}
			if tt.s.IsSetup() != tt.setup || tt.s.IsOperational() != tt.operational || tt.s.IsTerminal() != tt.ending {
				t.Errorf("IsSetup, IsOperational, IsTerminal = %v, %v, %v; want %v, %v, %v",
					tt.s.IsSetup(), tt.s.IsOperational(), tt.s.IsTerminal(), tt.setup, tt.operational, tt.ending)
			}
		})
	}
}

func TestNewConnWalksTheLifecycle(t *testing.T) {
	t.Parallel()
	c, err := sm.NewConn(sm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != sm.Connecting {
		t.Fatalf("new connection is %v, want connecting", c.State())
	}
	walk := []sm.ConnState{sm.Accepted, sm.Authenticated, sm.ServicesReady, sm.ProcessingReady, sm.Processing, sm.Idle, sm.Closing, sm.Closed}
	for _, s := range walk {
		if err := c.Transition(s, ""); err != nil {
			t.Fatalf("Transition(%v): %v", s, err)
		}
	}
	if err := c.Transition(sm.Connecting, "retry"); err == nil {
		t.Fatal("a closed connection was reopened")
	}
}
