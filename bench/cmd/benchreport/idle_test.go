package main

import (
	"strings"
	"testing"
)

// TestIdleReport: the idle runs get their own table, apart from the
// broadcast runs, with every peer's memory split and goroutines, and
// ssot-nbio is judged on its memory, its goroutines and its fan-out
// against ssot-gobwas at 2,000 and 19,000 clients; a run it could not
// make is a miss that says why.
func TestIdleReport(t *testing.T) {
	t.Parallel()
	const tooMany = "19000 clients need 38064 descriptors in the server, 2 for each, and its limit is 20000"
	ws := []WSResult{
		{Peer: "ssot-nbio", Clients: 100, Idle: 90, Messages: 5, Delivered: 50, Expected: 50, MsgsPerSec: 1000, P50Micros: 2000, P99Micros: 4000,
			RSSPerConn: 3 << 10, HeapPerConn: 2 << 10, StackPerConn: 0, HeapFreePerConn: 512, SocketMemPerConn: 256, Goroutines: 9, GoroutinesBefore: 7, Procs: 2},
		{Peer: "ssot-gobwas", Clients: 100, Idle: 90, Messages: 5, Delivered: 50, Expected: 50, MsgsPerSec: 900, P50Micros: 2500, P99Micros: 5000,
			RSSPerConn: 12 << 10, HeapPerConn: 5 << 10, StackPerConn: 4 << 10, Goroutines: 106, GoroutinesBefore: 6, Procs: 2},
		{Peer: "ssot-nbio", Clients: 300, Idle: 290, Messages: 5, Delivered: 50, Expected: 50, MsgsPerSec: 1000,
			RSSPerConn: 5 << 10, Goroutines: 25, GoroutinesBefore: 7, Procs: 2},
		{Peer: "ssot-gobwas", Clients: 2000, Messages: 5, Delivered: 10000, Expected: 10000, MsgsPerSec: 400, P50Micros: 3000, P99Micros: 9000},
		{Peer: "ssot-nbio", Clients: 2000, Messages: 5, Delivered: 10000, Expected: 10000, MsgsPerSec: 500, P50Micros: 2000, P99Micros: 6000},
		{Peer: "ssot-gobwas", Clients: 19000, Scale: true, Messages: 5, Delivered: 95000, Expected: 95000, MsgsPerSec: 400},
		{Peer: "ssot-nbio", Clients: 19000, Scale: true, Messages: 5, Error: tooMany},
	}
	var sb strings.Builder
	missed := writeIdle(&sb, ws)
	out := sb.String()
	for _, want := range []string{
		"| 100 | 90 | ssot-nbio | 50 / 50 | 1000 | 2.00 | 4.00 | 3.0 | 2.0 | 0.0 | 0.5 | 7 → 9 | 0.25 |  |",
		"| 100 | 90 | ssot-gobwas | 50 / 50 | 900.0 | 2.50 | 5.00 | 12.0 | 5.0 | 4.0 | 0.0 | 6 → 106 | 0.00 |  |",
		"- idle, 100 clients, 90 idle, ≤ 4 KiB RSS per connection: target met (3.0 KiB)",
		// 4 × 2 + 16 = 24.
		"- idle, 100 clients, 90 idle, ≤ 4 × GOMAXPROCS + 16 goroutines: target met (9 with 100 clients connected, 7 before any; at most 24 with GOMAXPROCS 2)",
		"- idle, 300 clients, 290 idle, ≤ 4 KiB RSS per connection: target **MISSED** (5.0 KiB)",
		"- idle, 300 clients, 290 idle, ≤ 4 × GOMAXPROCS + 16 goroutines: target **MISSED** (25 with 300 clients connected",
		"- fan-out, 2000 clients, ≥ 1.00× ssot-gobwas's messages/s: target met (1.25×; p50 2.00 against 3.00 ms, p99 6.00 against 9.00 ms)",
		"- scale, 19000 clients, ≥ 1.00× ssot-gobwas's messages/s: target **MISSED** (" + tooMany + ")",
		// 3 KiB of RSS: 2 of heap, 1 besides; 0.5 free, returned before RSS was read.
		"`ssot-nbio`'s 3.0 KiB of RSS per connection are 2.0 KiB of Go heap in use, 0.0 KiB of goroutine stacks and 1.0 KiB besides; before it was returned to the system, the runtime also held 0.5 KiB of free heap per connection",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("idle section lacks %q\n%s", want, out)
		}
	}
	if !missed {
		t.Error("writeIdle reported every target met, want a miss")
	}

	// The broadcast tables leave the idle runs out.
	sb.Reset()
	writeWS(&sb, ws)
	if strings.Contains(sb.String(), "| 100 |") {
		t.Errorf("broadcast section shows an idle run:\n%s", sb.String())
	}
}

// TestIdleNotMeasured: without idle runs or the fan-out runs its targets
// name, the section says so and misses nothing; with an idle run that
// lacks ssot-nbio, it misses.
func TestIdleNotMeasured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ws     []WSResult
		want   string
		missed bool
	}{
		{"nothing", nil, "Not measured in this run.", false},
		{"other sizes", []WSResult{{Peer: "ssot-gobwas", Clients: 10, MsgsPerSec: 1}, {Peer: "ssot-nbio", Clients: 10, MsgsPerSec: 1}}, "Not measured in this run.", false},
		{"no ssot-nbio", []WSResult{{Peer: "reference", Clients: 10, Idle: 5, MsgsPerSec: 1}}, "- idle, 10 clients, 5 idle, every target: target **MISSED** (ssot-nbio not measured)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sb strings.Builder
			missed := writeIdle(&sb, tt.ws)
			if !strings.Contains(sb.String(), tt.want) {
				t.Errorf("idle section lacks %q\n%s", tt.want, sb.String())
			}
			if missed != tt.missed {
				t.Errorf("missed = %v, want %v", missed, tt.missed)
			}
		})
	}
}
