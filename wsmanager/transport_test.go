package wsmanager_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// deadlineRecorder is a first-edition Conn that records, for every Write,
// whether its context kept one Deadline from the start of the call to its
// end, and whether any two calls shared a context.
type deadlineRecorder struct {
	wsmanager.Conn
	mu       sync.Mutex
	contexts map[context.Context]bool
	changed  bool
	shared   bool
}

func (r *deadlineRecorder) Write(ctx context.Context, msg []byte) error {
	d1, ok1 := ctx.Deadline()
	err := r.Conn.Write(ctx, msg)
	d2, ok2 := ctx.Deadline()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.contexts[ctx] {
		r.shared = true
	}
	r.contexts[ctx] = true
	if !ok1 || !ok2 || !d1.Equal(d2) {
		r.changed = true
	}
	return err
}

// TestFirstEditionConnGetsAPlainContext: a Conn that implements neither
// DeadlineConn nor BatchConn is given, for each batch, a context whose
// Deadline is WriteTimeout away and never changes, as context's contract
// requires.
func TestFirstEditionConnGetsAPlainContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	peer := memconn.New(memconn.Options{})
	rec := &deadlineRecorder{Conn: memconn.NewLegacy(peer), contexts: map[context.Context]bool{}}
	ctx := context.Background()
	res, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = res.Serve(rec, echo()) }()
	for range 3 {
		if err := res.Connection().Send(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		peer.WaitWritten(ctxTimeout(t), peer.Count()+1)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.changed {
		t.Error("a write's context changed its Deadline, or had none")
	}
	if rec.shared {
		t.Error("two writes shared one context")
	}
}

// TestFirstEditionConnWriteTimeout: a first-edition Conn whose write blocks
// past WriteTimeout sees its context end, and the connection is closed with
// 1008 and counted as slow.
func TestFirstEditionConnWriteTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{WriteTimeout: 50 * time.Millisecond})
	peer := memconn.New(memconn.Options{})
	peer.Block()
	s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, memconn.NewLegacy(peer), echo())
	s.ready(t)
	if err := s.c.Send(context.Background(), []byte("stuck")); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); !errors.Is(err, wsmanager.ErrWriteTimeout) {
		t.Errorf("Serve = %v, want ErrWriteTimeout", err)
	}
	if code, _, _ := peer.Closed(); code != wsmanager.CodePolicyViolation {
		t.Errorf("closed with %d, want 1008", code)
	}
	if got := h.f.Stats().SlowCloses; got != 1 {
		t.Errorf("SlowCloses %d, want 1", got)
	}
}

// TestAbortEndsAStuckWrite: a slow-consumer close aborts the write under way
// on a DeadlineConn at once, instead of waiting for its deadline.
func TestAbortEndsAStuckWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{WriteTimeout: time.Hour, QueueSize: 1})
	peer := memconn.New(memconn.Options{})
	s := h.serveConn(t, context.Background(), wsmanager.UserContext{UserID: "u"}, peer, echo())
	s.ready(t)
	peer.Block()
	ctx := context.Background()
	_ = s.c.Send(ctx, []byte("taken by the writer, stuck"))
	for s.c.Pending() != 0 {
		time.Sleep(time.Millisecond)
	}
	_ = s.c.Send(ctx, []byte("fills the queue"))
	if err := s.c.Send(ctx, []byte("overflows: slow consumer")); !errors.Is(err, wsmanager.ErrQueueFull) {
		t.Fatalf("Send = %v, want ErrQueueFull", err)
	}
	if err := s.wait(t); !errors.Is(err, wsmanager.ErrQueueFull) {
		t.Errorf("Serve = %v, want ErrQueueFull", err)
	}
	if !peer.Aborted() {
		t.Error("the stuck write was not aborted")
	}
}
