package wsmanager_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

func TestServeLifecycle(t *testing.T) {
	t.Parallel()
	boom := errors.New("database password is hunter2")
	setup := []string{"accepted", "authenticated", "services_ready", "processing_ready"}
	closed := append(setup, "closing", "closed")
	failed := append(setup, "closing", "failed")
	peerCloses := func(code int) func(*testing.T, *harness, *served, context.CancelFunc) {
		return func(_ *testing.T, _ *harness, s *served, _ context.CancelFunc) { s.peer.PeerCloseCode(code, "see you") }
	}
	tests := []struct {
		name       string
		handler    func(ctx context.Context, c *wsmanager.Connection, msg []byte) error
		end        func(t *testing.T, h *harness, s *served, cancel context.CancelFunc)
		wantErr    error // nil: Serve returns nil
		wantCode   int
		wantReason string
		wantStates []string
	}{
		{name: "peer closes with 1000", end: peerCloses(1000), wantCode: 1000, wantStates: closed},
		{name: "peer closes with 1001", end: peerCloses(1001), wantCode: 1000, wantStates: closed},
		{name: "peer closes with 4000", end: peerCloses(4000), wantCode: 1000, wantStates: closed},
		{name: "peer closes without a code", end: peerCloses(1005), wantCode: 1000, wantStates: closed},
		{
			name:     "transport ends cleanly",
			end:      func(t *testing.T, h *harness, s *served, _ context.CancelFunc) { s.peer.PeerClose() },
			wantCode: 1000, wantStates: closed,
		},
		{
			name:     "context ends",
			end:      func(t *testing.T, h *harness, s *served, cancel context.CancelFunc) { cancel() },
			wantCode: 1001, wantReason: "going away", wantStates: closed,
		},
		{
			name: "handler moves the machine to closing",
			handler: func(_ context.Context, c *wsmanager.Connection, _ []byte) error {
				return c.Machine().Transition(statemachine.Closing, "done")
			},
			end:      func(t *testing.T, h *harness, s *served, _ context.CancelFunc) { s.peer.Push([]byte("bye")) },
			wantCode: 1000, wantStates: closed,
		},
		{
			name: "connection closed",
			end: func(t *testing.T, h *harness, s *served, _ context.CancelFunc) {
				if err := s.c.Close(4000, "bye"); err != nil {
					t.Error(err)
				}
			},
			wantErr: wsmanager.ErrClosed, wantCode: 4000, wantReason: "bye", wantStates: closed,
		},
		{
			name: "factory closed",
			end: func(t *testing.T, h *harness, s *served, _ context.CancelFunc) {
				if err := h.f.Close(context.Background()); err != nil {
					t.Error(err)
				}
			},
			wantErr: wsmanager.ErrClosed, wantCode: 1001, wantReason: "going away", wantStates: closed,
		},
		{
			name:    "handler error",
			handler: func(context.Context, *wsmanager.Connection, []byte) error { return boom },
			end:     func(t *testing.T, h *harness, s *served, _ context.CancelFunc) { s.peer.Push([]byte("hi")) },
			wantErr: boom, wantCode: 1011, wantReason: "internal error", wantStates: failed,
		},
		{
			name:    "handler panic",
			handler: func(context.Context, *wsmanager.Connection, []byte) error { panic(boom) },
			end:     func(t *testing.T, h *harness, s *served, _ context.CancelFunc) { s.peer.Push([]byte("hi")) },
			wantErr: wsmanager.ErrHandlerPanic, wantCode: 1011, wantReason: "internal error", wantStates: failed,
		},
		{
			name:    "transport reset",
			end:     func(t *testing.T, h *harness, s *served, _ context.CancelFunc) { s.peer.Fail(boom) },
			wantErr: boom, wantCode: 1011, wantReason: "internal error", wantStates: failed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec record
			var disconnects []error
			var mu sync.Mutex
			h := newHarness(t, wsmanager.Options{
				OnConnect: rec.observe,
				OnDisconnect: func(c *wsmanager.Connection, err error) {
					mu.Lock()
					defer mu.Unlock()
					disconnects = append(disconnects, err)
					if st := c.Machine().State(); !st.IsTerminal() {
						t.Errorf("OnDisconnect in state %v, want a terminal one", st)
					}
				},
			})
			handler := wsmanager.Handler(echo())
			if tt.handler != nil {
				handler = wsmanager.HandlerFunc(tt.handler)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u1"}, handler)
			s.ready(t)
			tt.end(t, h, s, cancel)
			err := s.wait(t)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Serve = %v, want %v", err, tt.wantErr)
			}
			code, reason, ok := s.peer.Closed()
			if !ok || code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("closed %v with %d %q, want %d %q", ok, code, reason, tt.wantCode, tt.wantReason)
			}
			if diff := cmp.Diff(tt.wantStates, rec.states()); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			if rec.openAtEnd() {
				t.Error("the machine reached a terminal state while the transport was open")
			}
			mu.Lock()
			if len(disconnects) != 1 || disconnects[0] != err {
				t.Errorf("OnDisconnect called with %v, want once with Serve's %v", disconnects, err)
			}
			mu.Unlock()
			if st := h.f.Stats(); st.ConnsActive != 0 {
				t.Errorf("ConnsActive = %d after Serve returned, want 0", st.ConnsActive)
			}
			if err := s.c.Send(ctx, []byte("late")); !errors.Is(err, wsmanager.ErrClosed) && !errors.Is(err, context.Canceled) {
				t.Errorf("Send after the end = %v, want ErrClosed", err)
			}
		})
	}
}

// TestMachineDecides checks that the connection's machine, moved by a
// handler, is what the writer obeys: Reconnecting pauses writing (messages
// wait), returning to an operational state delivers them in order, Closing
// closes after what was queued before it, and a handler cannot jump to a
// terminal state past the transport.
func TestMachineDecides(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	ctx := context.Background()
	mach := s.c.Machine()
	if err := mach.Transition(statemachine.Closed, "skip the close"); !errors.Is(err, statemachine.ErrInvalidTransition) {
		t.Fatalf("Transition(Closed) = %v, want ErrInvalidTransition", err)
	}
	if err := mach.Transition(statemachine.Failed, "skip the close"); !errors.Is(err, statemachine.ErrInvalidTransition) {
		t.Fatalf("Transition(Failed) = %v, want ErrInvalidTransition", err)
	}
	for _, st := range []statemachine.ConnState{statemachine.Degraded, statemachine.Reconnecting} {
		if err := mach.Transition(st, "dependency lost"); err != nil {
			t.Fatal(err)
		}
	}
	all := msgs(0, 5)
	for _, m := range all[:3] {
		if n, err := h.f.SendToUser(ctx, "u", m); n != 1 || err != nil {
			t.Fatalf("SendToUser while reconnecting = %d, %v; want 1, nil", n, err)
		}
	}
	// Nothing may be written while Reconnecting; give a wrongly running
	// writer every chance to show itself.
	for range 100 {
		runtime.Gosched()
	}
	if got := s.peer.Count(); got != 0 {
		t.Fatalf("%d messages written while reconnecting, want 0", got)
	}
	if got := s.c.Pending(); got != 3 {
		t.Errorf("Pending = %d while reconnecting, want 3", got)
	}
	if err := mach.Transition(statemachine.ProcessingReady, "dependency back"); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, s.peer, 3)
	writing := s.peer.Block()
	if err := s.c.Send(ctx, all[3]); err != nil {
		t.Fatal(err)
	}
	<-writing
	if err := s.c.Send(ctx, all[4]); err != nil {
		t.Fatal(err)
	}
	if err := mach.Transition(statemachine.Closing, "done"); err != nil {
		t.Fatal(err)
	}
	if n, err := h.f.SendToUser(ctx, "u", []byte("after closing")); n != 0 || err != nil {
		t.Errorf("SendToUser after Closing = %d, %v; want 0, nil", n, err)
	}
	s.peer.Unblock()
	if err := s.wait(t); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if diff := cmp.Diff(all, s.peer.Written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if code, _, _ := s.peer.Closed(); code != 1000 {
		t.Errorf("closed with %d, want 1000", code)
	}
	if got := mach.State(); got != statemachine.Closed {
		t.Errorf("state %v, want closed", got)
	}
}

// TestFailureClosesOnlyThatConnection checks that a handler error, a
// handler panic or a transport error ends the connection it happened on and
// leaves the other connections of the same Manager serving.
func TestFailureClosesOnlyThatConnection(t *testing.T) {
	t.Parallel()
	handler := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		switch string(msg) {
		case "fail":
			return errors.New("failed")
		case "panic":
			panic("panicked")
		}
		return c.Send(ctx, msg)
	})
	tests := []struct {
		name     string
		trigger  func(s *served)
		wantCode int
	}{
		{"handler error", func(s *served) { s.peer.Push([]byte("fail")) }, 1011},
		{"handler panic", func(s *served) { s.peer.Push([]byte("panic")) }, 1011},
		{"transport error", func(s *served) { s.peer.Fail(errors.New("connection reset")) }, 1011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, wsmanager.Options{})
			uc := wsmanager.UserContext{UserID: "u"}
			failing := h.serve(t, context.Background(), uc, handler)
			other := h.serve(t, context.Background(), uc, handler)
			failing.ready(t)
			other.ready(t)
			tt.trigger(failing)
			if err := failing.wait(t); err == nil {
				t.Error("Serve = nil, want the failure")
			}
			if code, _, ok := failing.peer.Closed(); !ok || code != tt.wantCode {
				t.Errorf("failing connection closed %v with %d, want %d", ok, code, tt.wantCode)
			}
			if _, _, closed := other.peer.Closed(); closed {
				t.Fatal("the other connection was closed too")
			}
			m, err := h.f.Manager(uc)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := m.Send(context.Background(), []byte("still here")); n != 1 || err != nil {
				t.Errorf("Send after the failure = %d, %v; want 1, nil", n, err)
			}
			other.peer.Push([]byte("echo"))
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			other.peer.WaitWritten(ctx, 2)
			if diff := cmp.Diff([]string{"still here", "echo"}, asStrings(other.peer.Written())); diff != "" {
				t.Errorf("the other connection received (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOnConnectPanicAbortsTheConnection: a panic in OnConnect reaches
// Serve's caller, after the transport was closed as the first close request
// asked (1011 if none did), the connection removed and its machine moved to
// Failed.
func TestOnConnectPanicAbortsTheConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		closeFirst bool
		wantCode   int
		wantReason string
	}{
		{"panics", false, 1011, "internal error"},
		{"closes, then panics", true, 4000, "bye"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var conn *wsmanager.Connection
			h := newHarness(t, wsmanager.Options{OnConnect: func(c *wsmanager.Connection) {
				conn = c
				if tt.closeFirst {
					_ = c.Close(4000, "bye")
				}
				panic("on connect")
			}})
			m, err := h.f.Manager(wsmanager.UserContext{UserID: "u"})
			if err != nil {
				t.Fatal(err)
			}
			peer := memconn.New(memconn.Options{})
			func() {
				defer func() {
					if r := recover(); r != "on connect" {
						t.Errorf("recovered %v, want OnConnect's panic", r)
					}
				}()
				_ = m.Serve(context.Background(), peer, echo())
			}()
			if code, reason, ok := peer.Closed(); !ok || code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("transport closed %v with %d %q, want %d %q", ok, code, reason, tt.wantCode, tt.wantReason)
			}
			if st := conn.Machine().State(); st != statemachine.Failed {
				t.Errorf("machine in %v, want failed", st)
			}
			if st := h.f.Stats(); st.ConnsActive != 0 {
				t.Errorf("ConnsActive = %d, want 0", st.ConnsActive)
			}
		})
	}
}

func asStrings(msgs [][]byte) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m)
	}
	return out
}
