package wsmanager_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// testTimeout bounds every wait outside synctest, so a broken Factory fails
// the test instead of hanging it.
const testTimeout = 10 * time.Second

// quietLogger keeps expected failures (handler panics, broker errors) out of
// test output.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness is a Factory the test closes at its end.
type harness struct {
	f *wsmanager.Factory
}

// newHarness returns a Factory built from opts that the test closes at its
// end, after checking that Close succeeds and that every message queued was
// counted once as written, dropped or discarded.
func newHarness(t testing.TB, opts wsmanager.Options) *harness {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("Factory.Close: %v", err)
		}
		checkAccounting(t, f.Stats())
	})
	return &harness{f: f}
}

// checkAccounting checks the identity Stats documents, once nothing is
// pending: every message queued was written, dropped or discarded.
func checkAccounting(t testing.TB, st wsmanager.Stats) {
	t.Helper()
	if st.MessagesQueued != st.MessagesWritten+st.MessagesDropped+st.MessagesDiscarded {
		t.Errorf("MessagesQueued %d != MessagesWritten %d + MessagesDropped %d + MessagesDiscarded %d",
			st.MessagesQueued, st.MessagesWritten, st.MessagesDropped, st.MessagesDiscarded)
	}
}

// served is one connection being served by the harness.
type served struct {
	peer *memconn.Conn
	c    *wsmanager.Connection
	errc chan error // Serve's result
}

// serve serves a new in-memory connection for uc with handler and returns
// once it is registered. Unless the caller waits for it, Serve's result is
// checked by no one; the Factory's Close still waits for it.
func (h *harness) serve(t testing.TB, ctx context.Context, uc wsmanager.UserContext, handler wsmanager.Handler) *served {
	t.Helper()
	return h.serveConn(t, ctx, uc, memconn.New(memconn.Options{}), handler)
}

// serveConn is serve with the caller's transport, which is peer or wraps it.
func (h *harness) serveConn(t testing.TB, ctx context.Context, uc wsmanager.UserContext, tr wsmanager.Conn, handler wsmanager.Handler) *served {
	t.Helper()
	res, err := h.f.Reserve(ctx, uc)
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	s := &served{peer: peerOf(tr), c: res.Connection(), errc: make(chan error, 1)}
	go func() { s.errc <- res.Serve(tr, handler) }()
	return s
}

// peerOf returns the in-memory peer behind a test transport.
func peerOf(tr wsmanager.Conn) *memconn.Conn {
	switch p := tr.(type) {
	case *memconn.Conn:
		return p
	case memconn.Batch:
		return p.Conn
	case memconn.Legacy:
		return p.Conn()
	}
	panic("not an in-memory transport")
}

// ready waits until the connection's machine is operational.
func (s *served) ready(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := s.c.Machine().Wait(ctx, func(s statemachine.ConnState) bool { return s.IsOperational() || s.IsTerminal() })
	if err != nil || !st.IsOperational() {
		t.Fatalf("connection not ready: state %v, %v", st, err)
	}
}

// wait returns Serve's result.
func (s *served) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.errc:
		return err
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
		return nil
	}
}

// echo is a Handler that sends every message back on its connection.
func echo() wsmanager.Handler {
	return wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, msg)
	})
}

// record collects the transitions of a connection's machine, and whether
// its in-memory transport was still open when the machine reached a
// terminal state.
type record struct {
	mu   sync.Mutex
	tr   []string
	open bool
}

func (r *record) observe(c *wsmanager.Connection) {
	c.Machine().OnTransition(func(t statemachine.Transition[statemachine.ConnState]) {
		open := false
		if t.To.IsTerminal() {
			if tr := wsmanager.ConnOf(c); tr != nil {
				_, _, closed := peerOf(tr).Closed()
				open = !closed
			}
		}
		r.mu.Lock()
		r.tr = append(r.tr, t.To.String())
		r.open = r.open || open
		r.mu.Unlock()
	})
}

// openAtEnd reports whether the transport was open when the machine
// reached a terminal state.
func (r *record) openAtEnd() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}

func (r *record) states() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tr...)
}

type transition = statemachine.Transition[statemachine.ConnState]
