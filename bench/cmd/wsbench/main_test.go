package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if ran, err := runAsChild(time.Minute); ran {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestEveryPeerDeliversEverything runs a tiny broadcast through every peer,
// its server in one process and its clients in another, and checks that
// every active client got every message, and (runPeer fails otherwise) no
// idle client any, so the figures of a full run count messages and not
// failures.
func TestEveryPeerDeliversEverything(t *testing.T) {
	for _, name := range peerNames() {
		t.Run(name, func(t *testing.T) {
			r, err := runPeer(name, config{clients: 30, idle: 10, messages: 10, size: 64, timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Delivered != 200 || r.Expected != 200 {
				t.Errorf("delivered %d of %d, want 200 of 200", r.Delivered, r.Expected)
			}
			if r.P50Micros <= 0 || r.P99Micros < r.P50Micros {
				t.Errorf("latency p50 %.0fµs p99 %.0fµs: want 0 < p50 <= p99", r.P50Micros, r.P99Micros)
			}
			if r.MsgsPerSec <= 0 {
				t.Errorf("msgs/s %.0f, want > 0", r.MsgsPerSec)
			}
		})
	}
}

// TestClientsSpreadOverProcesses: a run with more clients than one client
// process may hold spreads them over several, and counts the messages of
// all of them.
func TestClientsSpreadOverProcesses(t *testing.T) {
	r, err := runPeer("reference", config{clients: 20, messages: 5, size: 64, perProcess: 8, timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientProcs != 3 {
		t.Errorf("%d client processes for 20 clients at most 8 each, want 3", r.ClientProcs)
	}
	if r.Expected != 100 || r.Delivered != 100 {
		t.Errorf("delivered %d of %d, want 100 of 100", r.Delivered, r.Expected)
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

// TestPayloadCarriesSendTime: the send time survives the round trip, and
// the payload is a JSON string (centrifuge's JSON protocol carries it as
// it is).
func TestPayloadCarriesSendTime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 123_456_789)
	for _, size := range []int{minSize, 64, 16384} {
		msg := make([]byte, size)
		stamp(msg, now)
		got, err := sentAt(msg)
		if err != nil || got != now.UnixNano() {
			t.Errorf("size %d: sentAt = %d, %v; want %d", size, got, err, now.UnixNano())
		}
		if msg[0] != '"' || msg[size-1] != '"' {
			t.Errorf("size %d: payload %.30q is not a JSON string", size, msg)
		}
	}
	for _, bad := range []string{"", `"123`, `1234567890123456789012`, `"12345678901234567x9"`} {
		if _, err := sentAt([]byte(bad)); err == nil {
			t.Errorf("sentAt(%q) succeeded, want an error", bad)
		}
	}
}
