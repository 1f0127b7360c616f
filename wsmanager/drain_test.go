package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestDrainPacesAndRefuses: Drain refuses new connections at once, closes
// the node's connections with 1012 in batches spread over its Duration,
// never all at once, and returns when every one has finished.
func TestDrainPacesAndRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const conns = 100
		ctx := context.Background()
		f, peers := servedPeers(t, conns)

		drained := make(chan error, 1)
		start := time.Now()
		go func() {
			drained <- f.Drain(ctx, wsmanager.DrainOptions{Duration: time.Second, Interval: 100 * time.Millisecond})
		}()
		synctest.Wait()
		if _, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "late"}); !errors.Is(err, wsmanager.ErrDraining) {
			t.Errorf("Reserve while draining = %v, want ErrDraining", err)
		}
		closed := func() int {
			n := 0
			for _, p := range peers {
				if code, _, ok := p.Closed(); ok {
					n++
					if code != wsmanager.CodeServiceRestart {
						t.Fatalf("closed with %d, want 1012", code)
					}
				}
			}
			return n
		}
		if got := closed(); got != 10 {
			t.Errorf("%d closed in the first batch, want 10 (100 connections over 10 steps)", got)
		}
		// Each pause is between half and one and a half Interval.
		time.Sleep(45 * time.Millisecond)
		synctest.Wait()
		if got := closed(); got != 10 {
			t.Errorf("%d closed before the first pause could end, want 10", got)
		}
		if err := <-drained; err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if got := closed(); got != conns {
			t.Errorf("%d closed when Drain returned, want %d", got, conns)
		}
		if took := time.Since(start); took < 450*time.Millisecond || took > 1500*time.Millisecond {
			t.Errorf("Drain took %v, want about its Duration of 1s (9 pauses of 50–150ms)", took)
		}
		st := f.Stats()
		if st.DrainCloses != conns || st.DrainRefused != 1 || st.ConnsActive != 0 {
			t.Errorf("DrainCloses %d, DrainRefused %d, ConnsActive %d; want %d, 1, 0", st.DrainCloses, st.DrainRefused, st.ConnsActive, conns)
		}
	})
}

// TestDrainSpreadsFewConnections: fewer connections than Duration has
// Intervals are spread over the whole Duration, one batch each, not closed
// in the first few Intervals.
func TestDrainSpreadsFewConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, _ := servedPeers(t, 5)
		start := time.Now()
		if err := f.Drain(context.Background(), wsmanager.DrainOptions{Duration: 10 * time.Second, Interval: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		// Five batches, four jittered pauses of 1 to 3 s.
		if took := time.Since(start); took < 4*time.Second || took > 12*time.Second {
			t.Errorf("5 connections drained in %v, want them spread over about the Duration of 10s", took)
		}
	})
}

// TestDrainContextEnds: a Drain whose ctx ends returns its error, with the
// batches not yet closed left open for Close.
func TestDrainContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, peers := servedPeers(t, 4)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if err := f.Drain(ctx, wsmanager.DrainOptions{Duration: 4 * time.Second, Interval: time.Second}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Drain = %v, want its context's error", err)
		}
		open := 0
		for _, p := range peers {
			if _, _, ok := p.Closed(); !ok {
				open++
			}
		}
		if open != 3 {
			t.Errorf("%d connections open after the first batch, want 3", open)
		}
	})
}

// TestDrainOptionsValidated: negative durations and codes a server may not
// send are refused before anything is closed.
func TestDrainOptionsValidated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	for _, o := range []wsmanager.DrainOptions{{Duration: -1}, {Interval: -1}, {Code: 1006}, {Code: 1000, Reason: string(make([]byte, 124))}} {
		if err := h.f.Drain(context.Background(), o); !errors.Is(err, wsmanager.ErrInvalidOptions) {
			t.Errorf("Drain(%+v) = %v, want ErrInvalidOptions", o, err)
		}
	}
	res, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatalf("a refused Drain left the factory refusing: %v", err)
	}
	res.Release()
}

// TestDrainingEndpointAnswers503: while draining, NewEndpoint answers a new
// request with 503 and Retry-After, so a client or load balancer goes to
// another node; with CloseAfterUpgrade, with close 1013 after the upgrade.
func TestDrainingEndpointAnswers503(t *testing.T) {
	t.Parallel()
	e := newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{})
	if err := e.h.f.Drain(context.Background(), wsmanager.DrainOptions{}); err != nil {
		t.Fatal(err)
	}
	c := dialFrames(t, e.addr, "/ws", bearer("alice"))
	if c.resp.StatusCode != http.StatusServiceUnavailable || c.resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q; want 503 with Retry-After", c.resp.StatusCode, c.resp.Header.Get("Retry-After"))
	}

	e = newEndpointTest(t, wsmanager.Options{}, wsmanager.EndpointOptions{CloseAfterUpgrade: true})
	if err := e.h.f.Drain(context.Background(), wsmanager.DrainOptions{}); err != nil {
		t.Fatal(err)
	}
	c = dialFrames(t, e.addr, "/ws", bearer("alice"))
	if got := c.next(t); got != "close 1013 server draining" {
		t.Errorf("got %q, want close 1013 after the upgrade", got)
	}
}

// servedPeers makes a Factory, inside the caller's synctest bubble, and
// serves n in-memory connections with it, one user each, returning once
// they are all served.
func servedPeers(t *testing.T, n int) (*wsmanager.Factory, []*memconn.Conn) {
	t.Helper()
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	peers := make([]*memconn.Conn, n)
	for i := range peers {
		res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: fmt.Sprint("u", i)})
		if err != nil {
			t.Fatal(err)
		}
		peers[i] = memconn.New(memconn.Options{})
		go func() { _ = res.Serve(peers[i], echo()) }()
	}
	synctest.Wait()
	return f, peers
}
