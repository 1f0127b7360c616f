package nbiows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
)

// TestKeepalive: a peer that answers pings stays connected over several
// intervals while nothing else is sent; one that stops answering is
// dropped within two intervals or so, and End reports ErrNoPong. The
// rounds themselves are walked through in TestKeepaliveRounds; this runs
// them over a real socket.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	const interval = 250 * time.Millisecond
	tests := []struct {
		name    string
		noPong  bool
		wantErr error // nil: still connected after 5 intervals
	}{
		{"answers", false, nil},
		{"silent", true, nbiows.ErrNoPong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, client := pushPair(t, nbiows.Options{PingInterval: interval})
			client.SetNoPong(tt.noPong)
			r := newRecorder()
			conn.Receive(r)
			// The client reads (answering pings unless told not to) until
			// the connection ends.
			go func() { _, _ = client.ReadClose() }()
			time.Sleep(5 * interval)
			_, ends, _ := r.snapshot()
			switch {
			case tt.wantErr == nil && len(ends) != 0:
				t.Errorf("a peer answering pings was dropped: %v", ends)
			case tt.wantErr != nil && (len(ends) != 1 || !errors.Is(ends[0], tt.wantErr)):
				t.Errorf("End called with %v, want once with %v", ends, tt.wantErr)
			}
		})
	}
}

// TestNoPing: with NoPing, a silent peer is never judged.
func TestNoPing(t *testing.T) {
	t.Parallel()
	conn, client := pushPair(t, nbiows.Options{PingInterval: nbiows.NoPing})
	client.SetNoPong(true)
	r := newRecorder()
	conn.Receive(r)
	time.Sleep(300 * time.Millisecond)
	if _, ends, _ := r.snapshot(); len(ends) != 0 {
		t.Errorf("a connection without pings ended: %v", ends)
	}
}
