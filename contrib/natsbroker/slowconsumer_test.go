package natsbroker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
)

// TestSlowSubscriberDropsAreCounted: NATS core drops messages for a node
// whose subscription falls behind its pending limit. Those losses are the
// at-most-once guarantee at work, and Stats.Dropped makes them visible; every
// message is either delivered or counted as dropped, never both, never
// neither.
func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	nc, err := nats.Connect(srv.ClientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natsbroker.New(nc, natsbroker.Options{PendingMessages: 2})
	if err != nil {
		t.Fatal(err)
	}

	got := make(chan struct{}, 64)
	release := make(chan struct{})
	var first sync.Once
	unsub, err := b.Subscribe(func(string, []byte) {
		got <- struct{}{}
		first.Do(func() { <-release }) // the node stops keeping up
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()

	const sent = 20
	if err := b.Publish(context.Background(), "alice", []byte("0")); err != nil {
		t.Fatal(err)
	}
	<-got // the subscriber is now stuck in its first delivery
	for i := 1; i < sent; i++ {
		if err := b.Publish(context.Background(), "alice", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	// The server sends a connection's messages before the PONG that ends a
	// flush, so once it returns every message has reached the client and was
	// queued or dropped.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	dropped := b.Stats().Dropped
	if dropped == 0 || dropped >= sent-1 {
		t.Fatalf("Dropped = %d of %d behind a pending limit of 2", dropped, sent-1)
	}
	close(release)
	for range sent - 1 - int(dropped) {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("a queued message was never delivered")
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Delivered+st.Dropped != sent || st.Dropped != dropped {
		t.Errorf("delivered %d + dropped %d, want %d in all with %d dropped", st.Delivered, st.Dropped, sent, dropped)
	}
	select {
	case <-got:
		t.Error("a dropped message was delivered after all")
	default:
	}

	// The count survives the subscription's end.
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	if d := b.Stats().Dropped; d != dropped {
		t.Errorf("after unsubscribe Dropped = %d, want %d", d, dropped)
	}
}

func TestNegativePendingLimitsAreRefused(t *testing.T) {
	t.Parallel()
	for _, opts := range []natsbroker.Options{{PendingMessages: -1}, {PendingBytes: -1}} {
		if _, err := natsbroker.Connect("nats://127.0.0.1:1", opts); !errors.Is(err, natsbroker.ErrInvalidOptions) {
			t.Errorf("%+v: %v", opts, err)
		}
	}
}
