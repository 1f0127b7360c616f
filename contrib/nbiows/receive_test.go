package nbiows_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// recorder is a wsmanager.Receiver that keeps what it is given and checks
// that its calls never overlap.
type recorder struct {
	mu      sync.Mutex
	inside  bool
	overlap bool
	msgs    []string
	ends    []error
	got     chan struct{} // a token per call
	hold    chan struct{} // when not nil, Message waits for it to close
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1<<16)} }

func (r *recorder) enter() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inside {
		r.overlap = true
	}
	r.inside = true
}

func (r *recorder) leave() {
	r.mu.Lock()
	r.inside = false
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) Message(msg []byte) {
	r.enter()
	defer r.leave()
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, string(msg))
	r.mu.Unlock()
}

func (r *recorder) End(err error) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	r.ends = append(r.ends, err)
	r.mu.Unlock()
}

// wait waits for n calls.
func (r *recorder) wait(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-r.got:
		case <-time.After(wsmanagertest.Timeout):
			t.Fatalf("the receiver had %d calls of %d", i, n)
		}
	}
}

func (r *recorder) snapshot() ([]string, []error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs), slices.Clone(r.ends), r.overlap
}

// pushPair returns a connection upgraded by an Upgrader made from opts and
// the client connected to it.
func pushPair(t *testing.T, opts nbiows.Options) (*nbiows.Conn, *wsmanagertest.Client) {
	t.Helper()
	srv := wsmanagertest.NewServer(t, newNbioUpgrader(t, opts), "")
	client := srv.Dial(t, nil)
	return srv.Accept(t).(*nbiows.Conn), client
}

// TestReceiveInOrder: messages sent before Receive are held and delivered
// first, then the others, all in order, one call at a time, and End once
// after the last, with the peer's close.
func TestReceiveInOrder(t *testing.T) {
	t.Parallel()
	conn, client := pushPair(t, nbiows.Options{Workers: 4})
	var want []string
	send := func(n int) {
		for range n {
			m := fmt.Sprintf("%04d:%s", len(want), strings.Repeat("x", len(want)%300))
			want = append(want, m)
			if err := client.WriteMessage(wsmanagertest.OpText, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(50)
	// The engine reads the early messages while nothing receives them.
	time.Sleep(50 * time.Millisecond)
	r := newRecorder()
	conn.Receive(r)
	send(500)
	if err := client.WriteClose(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if ce, err := client.ReadClose(); err != nil || ce.Code != 4000 {
		t.Errorf("the close was answered with %v, %v; want 4000", ce, err)
	}
	r.wait(t, len(want)+1)
	msgs, ends, overlap := r.snapshot()
	if !slices.Equal(msgs, want) {
		t.Errorf("received %d messages, want %d in order", len(msgs), len(want))
	}
	var ce *wsmanager.CloseError
	if len(ends) != 1 || !errors.As(ends[0], &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Errorf("End called with %v, want once with a CloseError 4000 \"bye\"", ends)
	}
	if overlap {
		t.Error("the receiver's calls overlapped")
	}
	if err := conn.CloseWithin(1000, "", time.Now().Add(time.Second)); err != nil {
		t.Errorf("CloseWithin after the peer's close: %v", err)
	}
}

// TestReceiveEndsOnClose: CloseWithin leads to End, once, with ErrClosed,
// and a second Receive gets ErrReceiving and nothing else.
func TestReceiveEndsOnClose(t *testing.T) {
	t.Parallel()
	conn, client := pushPair(t, nbiows.Options{})
	r := newRecorder()
	conn.Receive(r)
	second := newRecorder()
	conn.Receive(second)
	second.wait(t, 1)
	if msgs, ends, _ := second.snapshot(); len(msgs) != 0 || len(ends) != 1 || !errors.Is(ends[0], nbiows.ErrReceiving) {
		t.Errorf("a second Receive got %q and End %v, want End(ErrReceiving) alone", msgs, ends)
	}
	done := make(chan error, 1)
	// The peer reads the close frame and never answers it.
	go func() { done <- conn.CloseWithin(1001, "going", time.Now().Add(200*time.Millisecond)) }()
	if ce, err := client.ReadClose(); err != nil || ce.Code != 1001 {
		t.Errorf("peer saw %v, %v; want 1001", ce, err)
	}
	if err := <-done; err != nil {
		t.Errorf("CloseWithin: %v", err)
	}
	r.wait(t, 1)
	if _, ends, _ := r.snapshot(); len(ends) != 1 || !errors.Is(ends[0], nbiows.ErrClosed) {
		t.Errorf("End called with %v, want once with ErrClosed", ends)
	}
	if _, err := conn.Read(wsmanagertest.Context(t)); !errors.Is(err, nbiows.ErrClosed) {
		t.Errorf("Read after CloseWithin = %v, want ErrClosed", err)
	}
}

// TestBacklog: a peer that sends more than Options.Backlog while its
// receiver is stuck is closed with 1008, and End reports ErrBacklog in a
// wsmanager.SentCloseError.
func TestBacklog(t *testing.T) {
	t.Parallel()
	conn, client := pushPair(t, nbiows.Options{Backlog: 4 << 10, ReadLimit: 1 << 10})
	r := newRecorder()
	r.hold = make(chan struct{})
	conn.Receive(r)
	go func() {
		for range 16 {
			if client.WriteMessage(wsmanagertest.OpText, []byte(strings.Repeat("b", 1<<10))) != nil {
				return
			}
		}
	}()
	if ce, err := client.ReadClose(); err != nil || ce.Code != wsmanager.CodePolicyViolation {
		t.Errorf("peer saw %v, %v; want 1008", ce, err)
	}
	close(r.hold)
	var ends []error
	for len(ends) == 0 {
		r.wait(t, 1)
		_, ends, _ = r.snapshot()
	}
	var sent *wsmanager.SentCloseError
	if len(ends) != 1 || !errors.Is(ends[0], nbiows.ErrBacklog) || !errors.As(ends[0], &sent) || sent.Code != wsmanager.CodePolicyViolation {
		t.Errorf("End called with %v, want a SentCloseError 1008 wrapping ErrBacklog", ends)
	}
	if msgs, _, _ := r.snapshot(); len(msgs) > 5 {
		t.Errorf("%d messages of 1 KiB delivered past a backlog of 4 KiB", len(msgs))
	}
	_ = conn.CloseWithin(1000, "", time.Now())
}

// TestUpgraderCloseEndsConnections: Upgrader.Close closes what is still
// open, and each receiver's End reports ErrUpgraderClosed; later upgrades
// are refused with 503.
func TestUpgraderCloseEndsConnections(t *testing.T) {
	t.Parallel()
	up := newNbioUpgrader(t, nbiows.Options{})
	srv := wsmanagertest.NewServer(t, up, "")
	var recs []*recorder
	for range 3 {
		srv.Dial(t, nil)
		r := newRecorder()
		srv.Accept(t).(*nbiows.Conn).Receive(r)
		recs = append(recs, r)
	}
	if err := up.Close(wsmanagertest.Context(t)); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, ends, _ := r.snapshot(); len(ends) != 1 || !errors.Is(ends[0], nbiows.ErrUpgraderClosed) {
			t.Errorf("End called with %v once Close returned, want once with ErrUpgraderClosed", ends)
		}
	}
	if _, resp, err := wsmanagertest.Dial(wsmanagertest.Context(t), srv.URL, nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("an upgrade after Close got %v, %v; want 503", resp, err)
	}
}
