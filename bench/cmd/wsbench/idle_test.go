package main

import (
	"testing"
	"time"
)

// TestIdleClientsAreLeftOut runs the idle run in small, 200 clients of
// which 150 are idle, through the two transports it compares: every active
// client gets every message and no idle one gets any (runPeer fails
// otherwise), and the server's goroutines are counted with everything
// connected: ssot-nbio holds none for its idle connections, as many as it
// had before any client connected, where ssot-gobwas reads each
// connection from a goroutine of its own.
func TestIdleClientsAreLeftOut(t *testing.T) {
	const clients, idle, messages = 200, 150, 10
	tests := []struct {
		name string
		// perConn is the goroutines the server holds for each client;
		// the check allows GOMAXPROCS more for the runtime's own.
		perConn int
	}{
		{"ssot-nbio", 0},
		{"ssot-gobwas", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := runPeer(tt.name, config{clients: clients, idle: idle, messages: messages, size: 64, timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if want := int64((clients - idle) * messages); r.Delivered != want || r.Expected != want {
				t.Errorf("delivered %d of %d, want %d of %d", r.Delivered, r.Expected, want, want)
			}
			if r.Procs <= 0 || r.GoroutinesBefore <= 0 {
				t.Fatalf("GOMAXPROCS %d, goroutines before %d: the server reported no figures", r.Procs, r.GoroutinesBefore)
			}
			low := r.GoroutinesBefore + tt.perConn*clients
			if r.Goroutines < low || r.Goroutines > low+r.Procs {
				t.Errorf("%d goroutines with %d clients connected, %d before: want %d to %d", r.Goroutines, clients, r.GoroutinesBefore, low, low+r.Procs)
			}
		})
	}
}
