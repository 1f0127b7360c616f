package main

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(serveEnv); name != "" {
		if err := runServer(name, time.Minute); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestEveryPeerDeliversEverything runs a tiny broadcast through every peer
// in its own process and checks that every client got every message, so
// the figures of a full run count messages and not failures.
func TestEveryPeerDeliversEverything(t *testing.T) {
	for _, name := range peerNames() {
		t.Run(name, func(t *testing.T) {
			r, err := runPeer(name, config{clients: 20, messages: 10, size: 64, timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Delivered != 200 || r.Expected != 200 {
				t.Errorf("delivered %d of %d, want 200 of 200", r.Delivered, r.Expected)
			}
			if r.P50Micros <= 0 || r.P99Micros < r.P50Micros {
				t.Errorf("latency p50 %.0fµs p99 %.0fµs: want 0 < p50 <= p99", r.P50Micros, r.P99Micros)
			}
		})
	}
}

// TestSlowClientIsNotCounted checks that the slow client is left out of
// what is expected, and the others still get their messages through the
// raw loop, which stalls on it for one write timeout at most.
func TestSlowClientIsNotCounted(t *testing.T) {
	r, err := runPeer("raw", config{clients: 5, messages: 5, size: 64, slow: true, timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Expected != 20 || r.Delivered != 20 {
		t.Errorf("delivered %d of %d, want 20 of 20", r.Delivered, r.Expected)
	}
}
