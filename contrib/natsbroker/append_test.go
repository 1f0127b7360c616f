package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// dones records the done calls of AppendAsync, message by message.
type dones struct {
	mu    sync.Mutex
	order []int // message indexes, in the order of the done calls
	calls map[int]int
	pos   map[int]wsmanager.Position
	errs  map[int]error
}

func newDones() *dones {
	return &dones{calls: map[int]int{}, pos: map[int]wsmanager.Position{}, errs: map[int]error{}}
}

// for returns the done function of message i.
func (d *dones) fn(i int) func(wsmanager.Position, error) {
	return func(pos wsmanager.Position, err error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.order = append(d.order, i)
		d.calls[i]++
		d.pos[i], d.errs[i] = pos, err
	}
}

func (d *dones) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.order)
}

// TestLogAppendAsyncKeepsOrder appends many messages for two users with
// few in flight at a time: done is called once per message, in the order
// they were accepted, with increasing positions, and another node's
// Interest hands on each user's messages in that order, at those
// positions.
func TestLogAppendAsyncKeepsOrder(t *testing.T) {
	t.Parallel()
	const total = 2000
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{AppendsInFlight: 16})
	node, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	var r logRecorder
	subscribeLogUsers(t, node, &r, "alice", "bob")

	d := newDones()
	users := []string{"alice", "bob"}
	for i := range total {
		if err := l.AppendAsync(context.Background(), users[i%2], "", fmt.Append(nil, i), d.fn(i)); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.WaitFor(t, "every message to be delivered", func() bool { return r.count() == total })
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range total {
		if d.order[i] != i || d.calls[i] != 1 || d.errs[i] != nil {
			t.Fatalf("done call %d: message %d, called %d times, error %v; want message %d once, no error", i, d.order[i], d.calls[i], d.errs[i], i)
		}
		if i > 0 && d.pos[i].Seq <= d.pos[i-1].Seq {
			t.Fatalf("message %d at %v, after message %d at %v", i, d.pos[i], i-1, d.pos[i-1])
		}
	}
	for u, user := range users {
		got := r.of(user)
		if len(got) != total/2 {
			t.Fatalf("%s got %d messages, want %d", user, len(got), total/2)
		}
		for k, g := range got {
			i := 2*k + u
			if want := (logDelivery{user, "", fmt.Sprint(i), d.pos[i]}); g != want {
				t.Fatalf("%s's delivery %d is %+v, want %+v", user, k, g, want)
			}
		}
	}
	if st := l.Stats(); st.Published != total || st.PublishErrors != 0 {
		t.Errorf("stats %+v, want %d published and no error", st, total)
	}
}

// TestLogAppendAsyncFailureReachesDone: an append the stream does not
// take (it was deleted) reaches done with the error and is counted; the
// Log then creates the stream again, as a new epoch, and appends work.
func TestLogAppendAsyncFailureReachesDone(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	ctx := context.Background()
	before, err := l.Append(ctx, "alice", "", []byte("before"))
	if err != nil {
		t.Fatal(err)
	}
	_, js := rawJetStream(t, srv.ClientURL())
	if err := js.DeleteStream(ctx, l.Stream()); err != nil {
		t.Fatal(err)
	}
	d := newDones()
	if err := l.AppendAsync(ctx, "alice", "", []byte("lost"), d.fn(0)); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, "done to be called", func() bool { return d.len() == 1 })
	if err := d.errs[0]; !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("done got %v, want the stream's silence", err)
	}
	if st := l.Stats(); st.PublishErrors != 1 || st.Published != 1 {
		t.Errorf("stats %+v, want 1 published and 1 error", st)
	}
	var after wsmanager.Position
	brokertest.WaitFor(t, "the stream to be created again", func() bool {
		after, err = l.Append(ctx, "alice", "", []byte("after"))
		return err == nil
	})
	if after.Epoch == before.Epoch || after.Seq != 1 {
		t.Errorf("appended at %v after the stream was created again, want sequence 1 of a new epoch (the old was %v)", after, before)
	}
}

// TestLogCloseWaitsForAppendsInFlight: Close returns once every append
// accepted has its acknowledgement, and appends are refused after.
func TestLogCloseWaitsForAppendsInFlight(t *testing.T) {
	t.Parallel()
	const total = 500
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	d := newDones()
	for i := range total {
		if err := l.AppendAsync(context.Background(), "alice", "", []byte("m"), d.fn(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	n := len(d.order)
	for i, err := range d.errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	d.mu.Unlock()
	if n != total {
		t.Errorf("%d done calls when Close returned, want %d", n, total)
	}
	if err := l.AppendAsync(context.Background(), "alice", "", []byte("m"), d.fn(total)); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("AppendAsync after Close: %v", err)
	}
}

// stallDialer dials the server and can stop reading what it sends: acks
// then never arrive, though the connection stays up.
type stallDialer struct {
	mu      sync.Mutex
	stalled chan struct{} // closed to resume; nil while reading
}

func (d *stallDialer) Dial(network, address string) (net.Conn, error) {
	c, err := net.Dial(network, address)
	if err != nil {
		return nil, err
	}
	return stallConn{c, d}, nil
}

func (d *stallDialer) stall() {
	d.mu.Lock()
	d.stalled = make(chan struct{})
	d.mu.Unlock()
}

func (d *stallDialer) resume() {
	d.mu.Lock()
	if d.stalled != nil {
		close(d.stalled)
		d.stalled = nil
	}
	d.mu.Unlock()
}

type stallConn struct {
	net.Conn
	d *stallDialer
}

func (c stallConn) Read(p []byte) (int, error) {
	c.d.mu.Lock()
	stalled := c.d.stalled
	c.d.mu.Unlock()
	if stalled != nil {
		<-stalled
	}
	return c.Conn.Read(p)
}

// TestLogAppendsInFlightAreBounded: with acknowledgements held up,
// AppendAsync accepts AppendsInFlight messages and then waits for room as
// long as its context allows; Close, given up waiting, hands those in
// flight ErrClosed.
func TestLogAppendsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	var dialer stallDialer
	l, nc := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{AppendsInFlight: 2}, nats.SetCustomDialer(&dialer))
	t.Cleanup(dialer.resume) // before the Log's own cleanup
	d := newDones()
	dialer.stall()
	// The client's read under way when the stall began still completes:
	// a round trip ends it.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		if err := l.AppendAsync(ctx, "alice", "", []byte("m"), d.fn(i)); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.AppendAsync(short, "alice", "", []byte("m"), d.fn(2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a third append with two in flight: %v, want to wait out its context", err)
	}
	closing, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_ = l.Close(closing)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.order) != 2 || !errors.Is(d.errs[0], natsbroker.ErrClosed) || !errors.Is(d.errs[1], natsbroker.ErrClosed) {
		t.Errorf("done calls %v with %v, want messages 0 and 1 with ErrClosed", d.order, d.errs)
	}
}
