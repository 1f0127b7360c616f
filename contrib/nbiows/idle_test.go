package nbiows_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// TestIdleConnectionsHoldNoGoroutine checks doc.go's claim: 200 real
// connections served through wsmanager with Reservation.Go, each having
// echoed a message and then idle, leave the process with no more
// goroutines than before they connected, give or take the Upgrader's
// workers and a few of the runtime's.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	const (
		conns   = 200
		workers = 4
		slack   = 8 // the runtime's and net/http's, which come and go
	)
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	up := newNbioUpgrader(t, nbiows.Options{Workers: workers, PingInterval: time.Hour})
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, msg)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := f.Reserve(context.WithoutCancel(r.Context()), wsmanager.UserContext{UserID: r.URL.Query().Get("u")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		conn, err := up.Upgrade(w, r, "")
		if err != nil {
			res.Release()
			return
		}
		_ = res.Go(conn, echo)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wsmanagertest.Timeout)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("Factory.Close: %v", err)
		}
		srv.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	// One connection first, so that what serving any connection starts
	// once (the server's accept loop, the factory's janitor) is in the
	// baseline.
	warm := wsmanagertest.DialURL(t, url+"?u=warm", nil)
	roundTrip(t, warm)
	base := settledGoroutines(t, 0)
	fds := openDescriptors(t)
	for i := range conns {
		c := wsmanagertest.DialURL(t, url+"?u="+strconv.Itoa(i), nil)
		roundTrip(t, c)
	}
	// The client's end and the server's: one descriptor each, so that a
	// process's descriptor limit bounds nbiows's connections as it does
	// any other server's.
	if grew := openDescriptors(t) - fds; grew > 2*conns+slack {
		t.Errorf("%d connections opened %d descriptors, want one per end (%d)", conns, grew, 2*conns)
	}
	got := settledGoroutines(t, base+workers+slack)
	t.Logf("%d goroutines before %d connections, %d with them idle", base, conns, got)
	if got > base+workers+slack {
		t.Errorf("%d goroutines with %d idle connections, want at most %d (%d before, %d workers, %d slack)", got, conns, base+workers+slack, base, workers, slack)
	}
}

// openDescriptors counts the process's open file descriptors.
func openDescriptors(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(entries)
}

func roundTrip(t *testing.T, c *wsmanagertest.Client) {
	t.Helper()
	if err := c.WriteMessage(wsmanagertest.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hi" {
		t.Fatalf("echo %q, %v", msg, err)
	}
}

// settledGoroutines returns runtime.NumGoroutine once it is at most want,
// or after a second of trying; want 0 waits the second for the count to
// stop falling.
func settledGoroutines(t *testing.T, want int) int {
	t.Helper()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n = runtime.NumGoroutine()
		if want > 0 && n <= want {
			break
		}
	}
	return n
}
