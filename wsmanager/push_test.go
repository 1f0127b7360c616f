package wsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// pushConn is an in-memory PushConn driven by the test: deliver and
// peerClose call the Receiver on the test's goroutine, and a close by the
// package ends reading on the writer's, as a readiness-driven transport's
// worker would. It holds no goroutine of its own, so the goroutines a
// served connection holds are the package's alone.
type pushConn struct {
	*memconn.Conn
	mu       sync.Mutex
	r        wsmanager.Receiver
	received chan struct{} // closed by Receive
	ended    bool
}

func newPushConn() *pushConn {
	return &pushConn{Conn: memconn.New(memconn.Options{}), received: make(chan struct{})}
}

func (p *pushConn) Read(context.Context) ([]byte, error) {
	panic("wsmanager called Read on a PushConn it serves")
}

func (p *pushConn) Receive(r wsmanager.Receiver) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r != nil {
		panic("Receive called twice")
	}
	p.r = r
	close(p.received)
}

// deliver hands msg to the receiver, as a worker would.
func (p *pushConn) deliver(t *testing.T, msg string) {
	t.Helper()
	select {
	case <-p.received:
	case <-time.After(testTimeout):
		t.Fatal("Receive was never called")
	}
	p.r.Message([]byte(msg))
}

// end ends reading once with err.
func (p *pushConn) end(err error) {
	p.mu.Lock()
	r, ended := p.r, p.ended
	p.ended = true
	p.mu.Unlock()
	if r != nil && !ended {
		r.End(err)
	}
}

func (p *pushConn) CloseWithin(code int, reason string, deadline time.Time) error {
	err := p.Conn.CloseWithin(code, reason, deadline)
	p.end(errors.New("use of closed connection"))
	return err
}

var _ wsmanager.PushConn = (*pushConn)(nil)

// stableGoroutines waits for the goroutine count to come back to at most
// want, and fails if it does not.
func stableGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d", n, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// A PushConn served with Reservation.Go holds no goroutine while idle:
// messages are handled on the transport's goroutine, replies written by a
// writer that exits, and the end runs on whichever side finishes last.
func TestPushConnIdleHoldsNoGoroutine(t *testing.T) {
	type end struct {
		err error
		st  statemachine.ConnState
	}
	const n = 50
	ended := make(chan end, n)
	h := newHarness(t, wsmanager.Options{
		OnDisconnect: func(c *wsmanager.Connection, err error) { ended <- end{err, c.State()} },
	})
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, append([]byte("echo "), msg...))
	})
	base := runtime.NumGoroutine()
	conns := make([]*pushConn, n)
	for i := range conns {
		res, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: fmt.Sprint("u", i)})
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = newPushConn()
		if err := res.Go(conns[i], echo); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range conns {
		p.deliver(t, "a")
		p.deliver(t, "b")
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		p.WaitWritten(ctx, 2)
		cancel()
		if got := p.Written(); !slices.EqualFunc(got, [][]byte{[]byte("echo a"), []byte("echo b")}, slices.Equal) {
			t.Fatalf("conn %d wrote %q, want the echoes in order", i, got)
		}
	}
	// Every writer parks: n idle connections cost no goroutine.
	stableGoroutines(t, base)

	for _, p := range conns {
		p.end(&wsmanager.CloseError{Code: wsmanager.CodeNormal})
	}
	for range n {
		select {
		case e := <-ended:
			if e.err != nil || e.st != statemachine.Closed {
				t.Fatalf("OnDisconnect(%v) in %v, want nil in Closed", e.err, e.st)
			}
		case <-time.After(testTimeout):
			t.Fatal("a connection never finished")
		}
	}
	if got := h.f.Stats().EndedByPeer; got != n {
		t.Errorf("EndedByPeer = %d, want %d", got, n)
	}
	stableGoroutines(t, base)
}

// Serve on a PushConn blocks until the connection finished and returns
// what it returns for a pull transport.
func TestPushConnServe(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		act      func(t *testing.T, p *pushConn, c *wsmanager.Connection, cancel context.CancelFunc)
		wantErr  error
		wantCode int
	}{
		{"peer closes", func(t *testing.T, p *pushConn, _ *wsmanager.Connection, _ context.CancelFunc) {
			p.deliver(t, "hi")
			p.end(&wsmanager.CloseError{Code: wsmanager.CodeGoingAway})
		}, nil, wsmanager.CodeNormal},
		{"server closes", func(t *testing.T, p *pushConn, c *wsmanager.Connection, _ context.CancelFunc) {
			p.deliver(t, "hi")
			_ = c.Close(wsmanager.CodeNormal, "bye")
		}, wsmanager.ErrClosed, wsmanager.CodeNormal},
		{"handler fails", func(t *testing.T, p *pushConn, _ *wsmanager.Connection, _ context.CancelFunc) {
			p.deliver(t, "fail")
		}, boom, wsmanager.CodeInternalError},
		{"context ends", func(t *testing.T, p *pushConn, _ *wsmanager.Connection, cancel context.CancelFunc) {
			p.deliver(t, "hi")
			cancel()
		}, nil, wsmanager.CodeGoingAway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, wsmanager.Options{})
			var got []string
			handler := wsmanager.HandlerFunc(func(_ context.Context, _ *wsmanager.Connection, msg []byte) error {
				got = append(got, string(msg))
				if string(msg) == "fail" {
					return boom
				}
				return nil
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
			if err != nil {
				t.Fatal(err)
			}
			p := newPushConn()
			served := make(chan error, 1)
			go func() { served <- res.Serve(p, handler) }()
			tt.act(t, p, res.Connection(), cancel)
			select {
			case err := <-served:
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("Serve = %v, want %v", err, tt.wantErr)
				}
			case <-time.After(testTimeout):
				t.Fatal("Serve never returned")
			}
			if code, _, ok := p.Closed(); !ok || code != tt.wantCode {
				t.Errorf("closed with %d (%v), want %d", code, ok, tt.wantCode)
			}
			if len(got) == 0 || got[0] == "" {
				t.Errorf("handler saw %q", got)
			}
		})
	}
}

// A connection closed before it is served never starts reading: it
// finishes once its writer closed the transport.
func TestPushConnClosedBeforeServe(t *testing.T) {
	disconnected := make(chan error, 1)
	h := newHarness(t, wsmanager.Options{
		OnDisconnect: func(_ *wsmanager.Connection, err error) { disconnected <- err },
	})
	res, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Connection().Close(wsmanager.CodeNormal, "")
	p := newPushConn()
	if err := res.Go(p, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil })); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-disconnected:
		if !errors.Is(err, wsmanager.ErrClosed) {
			t.Errorf("OnDisconnect(%v), want ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the connection never finished")
	}
	select {
	case <-p.received:
		t.Error("Receive was called on a connection closed before it was served")
	default:
	}
}

// A PushConn served by Factory.Serve (which gives the connection its
// transport before serving it) whose connection is closed by OnConnect
// still finishes: the writer may close the transport before the reader
// exists, and the close is counted once, by one side or the other.
func TestPushConnClosedByOnConnect(t *testing.T) {
	const n = 50
	disconnected := make(chan error, n)
	h := newHarness(t, wsmanager.Options{
		OnConnect:    func(c *wsmanager.Connection) { _ = c.Close(wsmanager.CodeNormal, "") },
		OnDisconnect: func(_ *wsmanager.Connection, err error) { disconnected <- err },
	})
	handler := wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil })
	for i := range n {
		served := make(chan error, 1)
		go func() {
			served <- h.f.Serve(context.Background(), wsmanager.UserContext{UserID: fmt.Sprint("u", i)}, newPushConn(), handler)
		}()
		select {
		case err := <-served:
			if !errors.Is(err, wsmanager.ErrClosed) {
				t.Fatalf("Serve = %v, want ErrClosed", err)
			}
		case <-time.After(testTimeout):
			t.Fatalf("Serve %d never returned", i)
		}
		if err := <-disconnected; !errors.Is(err, wsmanager.ErrClosed) {
			t.Fatalf("OnDisconnect(%v), want ErrClosed", err)
		}
	}
	if len(disconnected) != 0 {
		t.Errorf("OnDisconnect called %d more times", len(disconnected))
	}
}
