package natsbroker_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
)

// TestSlowSubscriberDropsAreCounted: a node whose deliveries fall behind
// keeps PendingMessages waiting and drops the rest. Those losses are the
// at-most-once guarantee at work, and Stats.Dropped makes them visible;
// every message is either delivered or counted as dropped, never both,
// never neither.
func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natsbroker.New(nc, natsbroker.Options{PendingMessages: 2})
	if err != nil {
		t.Fatal(err)
	}
	brokertest.SlowSubscriberDropsAreCounted(t, b, 2, func() uint64 { return b.Stats().Delivered }, func() uint64 { return b.Stats().Dropped })
}

func TestNegativePendingLimitsAreRefused(t *testing.T) {
	t.Parallel()
	for _, opts := range []natsbroker.Options{{PendingMessages: -1}, {PendingBytes: -1}} {
		if _, err := natsbroker.Connect("nats://127.0.0.1:1", opts); !errors.Is(err, natsbroker.ErrInvalidOptions) {
			t.Errorf("%+v: %v", opts, err)
		}
	}
}
