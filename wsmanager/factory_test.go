package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

func TestNewFactoryOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts wsmanager.Options
		ok   bool
	}{
		{"zero value", wsmanager.Options{}, true},
		{"explicit", wsmanager.Options{MaxManagersPerUser: 1, MaxConnsPerManager: 1, QueueSize: 1, OnFull: wsmanager.DropOldest, WriteTimeout: time.Second, IdleTimeout: time.Second}, true},
		{"negative MaxManagersPerUser", wsmanager.Options{MaxManagersPerUser: -1}, false},
		{"negative MaxConnsPerManager", wsmanager.Options{MaxConnsPerManager: -1}, false},
		{"negative QueueSize", wsmanager.Options{QueueSize: -1}, false},
		{"unknown OnFull", wsmanager.Options{OnFull: wsmanager.DropOldest + 1}, false},
		{"negative WriteTimeout", wsmanager.Options{WriteTimeout: -time.Second}, false},
		{"negative IdleTimeout", wsmanager.Options{IdleTimeout: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := wsmanager.NewFactory(tt.opts)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, wsmanager.ErrInvalidOptions) {
				t.Errorf("NewFactory = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestFactoryManagerGetOrCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	uc := wsmanager.UserContext{UserID: "u", ThreadID: "t"}
	const callers = 64
	got := make([]*wsmanager.Manager, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			m, err := h.f.Manager(uc)
			if err != nil {
				t.Error(err)
			}
			got[i] = m
		})
	}
	wg.Wait()
	for _, m := range got {
		if m != got[0] {
			t.Fatal("concurrent Manager calls for one pair returned different managers")
		}
	}
	if got[0].User() != uc {
		t.Errorf("User() = %+v, want %+v", got[0].User(), uc)
	}
	other, err := h.f.Manager(wsmanager.UserContext{UserID: "u", ThreadID: "t2"})
	if err != nil || other == got[0] {
		t.Errorf("another thread got %p, %v; want a different manager", other, err)
	}
	if st := h.f.Stats(); st.ManagersCreated != 2 || st.ManagersActive != 2 {
		t.Errorf("ManagersCreated, Active = %d, %d; want 2, 2", st.ManagersCreated, st.ManagersActive)
	}
	if _, err := h.f.Manager(wsmanager.UserContext{}); !errors.Is(err, wsmanager.ErrInvalidUser) {
		t.Errorf("Manager(zero) = %v, want ErrInvalidUser", err)
	}
}

func TestFactoryLimitsUnderStorm(t *testing.T) {
	t.Parallel()
	const maxManagers, maxConns, callers = 3, 4, 40
	h := newHarness(t, wsmanager.Options{MaxManagersPerUser: maxManagers, MaxConnsPerManager: maxConns})

	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[*wsmanager.Manager]bool{}
	limited := 0
	for i := range callers {
		wg.Go(func() {
			m, err := h.f.Manager(wsmanager.UserContext{UserID: "u", ThreadID: fmt.Sprint(i)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, wsmanager.ErrUserLimit):
				limited++
			case err != nil:
				t.Error(err)
			default:
				created[m] = true
			}
		})
	}
	wg.Wait()
	if len(created) != maxManagers || limited != callers-maxManagers {
		t.Errorf("%d managers created and %d refused, want %d and %d", len(created), limited, maxManagers, callers-maxManagers)
	}

	m, err := h.f.Manager(wsmanager.UserContext{UserID: "v"})
	if err != nil {
		t.Fatal(err)
	}
	peers := make([]*memconn.Conn, callers)
	results := make(chan error, callers)
	for i := range peers {
		peers[i] = memconn.New(memconn.Options{})
		wg.Go(func() { results <- m.Serve(context.Background(), peers[i], echo()) })
	}
	refused := 0
	for range callers - maxConns {
		if err := <-results; !errors.Is(err, wsmanager.ErrConnLimit) {
			t.Fatalf("Serve = %v, want ErrConnLimit", err)
		}
		refused++
	}
	if got := len(m.Connections()); got != maxConns {
		t.Errorf("%d connections registered, want %d", got, maxConns)
	}
	for _, p := range peers {
		if code, reason, ok := p.Closed(); ok && (code != 1013 || reason != "too many connections") {
			t.Errorf("refused connection closed with %d %q, want 1013", code, reason)
		}
	}
	st := h.f.Stats()
	if st.UserLimitHits != callers-maxManagers || st.ConnLimitHits != uint64(refused) {
		t.Errorf("UserLimitHits, ConnLimitHits = %d, %d; want %d, %d", st.UserLimitHits, st.ConnLimitHits, callers-maxManagers, refused)
	}
	if err := m.Close(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	for range maxConns {
		if err := <-results; !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("Serve after Manager.Close = %v, want ErrClosed", err)
		}
	}
	wg.Wait()
}

func TestManagerCloseIsFinal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	uc := wsmanager.UserContext{UserID: "u"}
	s := h.serve(t, context.Background(), uc, echo())
	s.ready(t)
	m, err := h.f.Manager(uc)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(4001, "moved"); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve = %v, want ErrClosed", err)
	}
	if code, reason, _ := s.peer.Closed(); code != 4001 || reason != "moved" {
		t.Errorf("closed with %d %q, want 4001 %q", code, reason, "moved")
	}
	if err := m.Close(1000, ""); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if _, err := m.Send(context.Background(), []byte("x")); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Send = %v, want ErrClosed", err)
	}
	peer := memconn.New(memconn.Options{})
	if err := m.Serve(context.Background(), peer, echo()); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve on a closed Manager = %v, want ErrClosed", err)
	}
	if code, _, _ := peer.Closed(); code != 1001 {
		t.Errorf("transport refused by a closed Manager closed with %d, want 1001", code)
	}
	fresh, err := h.f.Manager(uc)
	if err != nil || fresh == m {
		t.Errorf("Manager after Close = %p, %v; want a new manager", fresh, err)
	}
}

func TestFactoryClose(t *testing.T) {
	t.Parallel()
	var registered sync.WaitGroup
	registered.Add(6)
	f, err := wsmanager.NewFactory(wsmanager.Options{
		Logger:    quietLogger(),
		OnConnect: func(*wsmanager.Connection) { registered.Done() },
	})
	if err != nil {
		t.Fatal(err)
	}
	var peers []*memconn.Conn
	results := make(chan error, 6)
	for i := range 6 {
		m, err := f.Manager(wsmanager.UserContext{UserID: fmt.Sprint("u", i%3), ThreadID: fmt.Sprint(i % 2)})
		if err != nil {
			t.Fatal(err)
		}
		p := memconn.New(memconn.Options{})
		peers = append(peers, p)
		go func() { results <- m.Serve(context.Background(), p, echo()) }()
	}
	registered.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Close waited for every connection: each is closed and removed now.
	for _, p := range peers {
		if code, reason, ok := p.Closed(); !ok || code != 1001 || reason != "going away" {
			t.Errorf("closed %v with %d %q, want 1001 %q", ok, code, reason, "going away")
		}
	}
	st := f.Stats()
	if st.ConnsActive != 0 || st.ManagersActive != 0 {
		t.Errorf("after Close: %d connections and %d managers active, want none", st.ConnsActive, st.ManagersActive)
	}
	for range peers {
		if err := <-results; err != nil && !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("Serve = %v, want nil or ErrClosed", err)
		}
	}
	if err := f.Close(ctx); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := f.Manager(wsmanager.UserContext{UserID: "u"}); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Manager = %v, want ErrClosed", err)
	}
	if _, err := f.SendToUser(ctx, "u0", []byte("x")); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("SendToUser = %v, want ErrClosed", err)
	}
	if n := f.Broadcast(ctx, []byte("x"), nil); n != 0 {
		t.Errorf("Broadcast = %d, want 0", n)
	}
	p := memconn.New(memconn.Options{})
	if err := f.Serve(ctx, wsmanager.UserContext{UserID: "u"}, p, echo()); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve = %v, want ErrClosed", err)
	}
	if code, _, _ := p.Closed(); code != 1001 {
		t.Errorf("transport refused after Close closed with %d, want 1001", code)
	}
}

func TestFactoryCloseHonoursContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		handler := wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error {
			<-release // a handler that ignores its context
			return nil
		})
		p := memconn.New(memconn.Options{})
		p.Push([]byte("work"))
		done := make(chan error, 1)
		go func() { done <- f.Serve(context.Background(), wsmanager.UserContext{UserID: "u"}, p, handler) }()
		synctest.Wait()

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := f.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close with a stuck handler = %v, want DeadlineExceeded", err)
		}
		close(release)
		if err := f.Close(context.Background()); err != nil {
			t.Errorf("Close after the handler returned = %v", err)
		}
		if err := <-done; !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("Serve = %v, want ErrClosed", err)
		}
	})
}

func TestFactoryIdleCleanup(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		h := newHarness(t, wsmanager.Options{IdleTimeout: idle})
		uc := wsmanager.UserContext{UserID: "u"}
		s := h.serve(t, context.Background(), uc, echo())
		s.ready(t)
		m, _ := h.f.Manager(uc)

		time.Sleep(3 * idle) // a Manager with a connection is never idle
		synctest.Wait()
		if got, _ := h.f.Manager(uc); got != m {
			t.Fatal("manager with a connection was removed")
		}

		s.peer.PeerClose()
		if err := s.wait(t); err != nil {
			t.Fatal(err)
		}
		time.Sleep(idle - time.Second)
		synctest.Wait()
		if st := h.f.Stats(); st.ManagersRemoved != 0 {
			t.Fatalf("manager removed %v before IdleTimeout", idle-time.Second)
		}
		time.Sleep(idle/4 + time.Second)
		synctest.Wait()
		if st := h.f.Stats(); st.ManagersRemoved != 1 || st.ManagersActive != 0 {
			t.Fatalf("ManagersRemoved, Active = %d, %d after IdleTimeout; want 1, 0", st.ManagersRemoved, st.ManagersActive)
		}
		if _, err := m.Send(context.Background(), []byte("x")); !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("Send on a removed Manager = %v, want ErrClosed", err)
		}
		fresh, err := h.f.Manager(uc)
		if err != nil || fresh == m {
			t.Errorf("Manager after removal = %p, %v; want a new one", fresh, err)
		}
		// Serve through the Factory replaces a Manager removed between
		// Manager and Serve.
		time.Sleep(2 * idle)
		synctest.Wait()
		again := h.serve(t, context.Background(), uc, echo())
		again.ready(t)
		if got := again.c.User(); got != uc {
			t.Errorf("User() = %+v, want %+v", got, uc)
		}
	})
}

func TestFactoryStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	for _, m := range msgs(0, 5) {
		if _, err := h.f.SendToUser(context.Background(), "u", m); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s.peer.WaitWritten(ctx, 5)
	s.peer.PeerClose()
	s.wait(t)
	got := h.f.Stats()
	want := wsmanager.Stats{
		ManagersActive: 1, ManagersCreated: 1,
		ConnsCreated: 1, ConnsRemoved: 1,
		MessagesQueued: 5, MessagesWritten: 5,
		EndedByPeer: 1, EndedByCode: wsmanager.CodeCounts{NoStatus: 1}, // a clean end without a close frame
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// TestFactoryTrimsIdleConnections: a connection keeps the buffers a burst
// grew while it is busy, so the next burst allocates nothing, and the
// janitor gives them back once it has been idle for a sweep.
func TestFactoryTrimsIdleConnections(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		h := newHarness(t, wsmanager.Options{IdleTimeout: idle, QueueSize: 1000})
		s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
		s.ready(t)
		s.peer.Block()
		for i := range 500 {
			if err := s.c.Send(context.Background(), fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		s.peer.Unblock()
		waitWritten(t, s.peer, 500)
		synctest.Wait() // the writer has parked
		if ring, _ := s.c.QueueCap(); ring < 500 {
			t.Fatalf("ring of %d slots after a burst of 500, want it kept", ring)
		}
		time.Sleep(idle / 2)
		synctest.Wait()
		if ring, spare := s.c.QueueCap(); ring > 8 || spare > 8 {
			t.Errorf("after a sweep, ring %d and batch buffer %d slots; want at most 8 each", ring, spare)
		}
		if err := s.c.Send(context.Background(), []byte("after")); err != nil {
			t.Fatal(err)
		}
		waitWritten(t, s.peer, 501)
	})
}
