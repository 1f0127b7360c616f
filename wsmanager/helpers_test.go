package wsmanager_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// testTimeout bounds every wait outside synctest, so a broken Factory fails
// the test instead of hanging it.
const testTimeout = 10 * time.Second

// quietLogger keeps expected failures (handler panics, broker errors) out of
// test output.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness is a Factory whose connections can be found by their Conn.
type harness struct {
	f       *wsmanager.Factory
	mu      sync.Mutex
	waiting map[wsmanager.Conn]chan *wsmanager.Connection
}

// newHarness returns a Factory built from opts that the test closes at its
// end, after checking that Close succeeds.
func newHarness(t testing.TB, opts wsmanager.Options) *harness {
	t.Helper()
	h := &harness{waiting: make(map[wsmanager.Conn]chan *wsmanager.Connection)}
	user := opts.OnConnect
	opts.OnConnect = func(c *wsmanager.Connection) {
		if user != nil {
			user(c)
		}
		h.mu.Lock()
		ch := h.waiting[connOf(c)]
		h.mu.Unlock()
		if ch != nil {
			ch <- c
		}
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.f = f
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("Factory.Close: %v", err)
		}
	})
	return h
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
	peer := memconn.New(memconn.Options{})
	ch := make(chan *wsmanager.Connection, 1)
	h.mu.Lock()
	h.waiting[peer] = ch
	h.mu.Unlock()
	s := &served{peer: peer, errc: make(chan error, 1)}
	go func() { s.errc <- h.f.Serve(ctx, uc, peer, handler) }()
	select {
	case s.c = <-ch:
	case err := <-s.errc:
		t.Fatalf("Serve returned before registering: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("connection not registered")
	}
	h.mu.Lock()
	delete(h.waiting, peer)
	h.mu.Unlock()
	return s
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

// connOf returns the Conn a Connection was served with; the harness keys
// connections by it.
func connOf(c *wsmanager.Connection) wsmanager.Conn { return wsmanager.ConnOf(c) }

// echo is a Handler that sends every message back on its connection.
func echo() wsmanager.Handler {
	return wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, msg)
	})
}

// record collects the transitions of a connection's machine.
type record struct {
	mu sync.Mutex
	tr []string
}

func (r *record) observe(c *wsmanager.Connection) {
	c.Machine().OnTransition(func(t statemachine.Transition[statemachine.ConnState]) {
		r.mu.Lock()
		r.tr = append(r.tr, t.To.String())
		r.mu.Unlock()
	})
}

func (r *record) states() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tr...)
}

type transition = statemachine.Transition[statemachine.ConnState]
