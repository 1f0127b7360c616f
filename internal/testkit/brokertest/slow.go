package brokertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// SlowSubscriberDropsAreCounted subscribes to b with a subscriber that
// stops keeping up after the first message, publishes 20 messages, and
// checks that exactly pending of them wait behind the first, that the rest
// are dropped and counted by dropped, and that every message is either
// delivered or dropped, never both, never neither. delivered and dropped
// read the broker's counters.
func SlowSubscriberDropsAreCounted(t *testing.T, b wsmanager.Broker, pending int, delivered, dropped func() uint64) {
	t.Helper()
	const sent = 20
	got := make(chan string, sent)
	release := make(chan struct{})
	first := true
	unsub, err := b.Subscribe(func(_ string, msg []byte) {
		got <- string(msg)
		if first { // deliveries are one at a time
			first = false
			<-release // the node stops keeping up
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()

	ctx := context.Background()
	if err := b.Publish(ctx, "alice", []byte("00")); err != nil {
		t.Fatal(err)
	}
	<-got // the subscriber is now stuck in its first delivery
	for i := 1; i < sent; i++ {
		if err := b.Publish(ctx, "alice", fmt.Appendf(nil, "%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	WaitFor(t, "the messages behind the limit to be dropped", func() bool { return dropped() == sent-1-uint64(pending) })
	close(release)
	for i := 1; i <= pending; i++ {
		select {
		case m := <-got:
			if want := fmt.Sprintf("%02d", i); m != want {
				t.Errorf("delivered %s, want %s: the oldest waiting messages are kept", m, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a waiting message was never delivered")
		}
	}
	WaitFor(t, "the counters to settle", func() bool { return delivered()+dropped() == sent })
	select {
	case m := <-got:
		t.Errorf("a dropped message, %s, was delivered after all", m)
	default:
	}
	// The count survives the subscription's end.
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	if d := dropped(); d != sent-1-uint64(pending) {
		t.Errorf("after unsubscribe Dropped = %d, want %d", d, sent-1-pending)
	}
}

// MalformedAreCountedNotDelivered subscribes to b, has publish put a
// message straight on each of the malformed topics under b's prefix (that
// no broker would publish on) and then on alice's topic, and checks that
// only alice's message is delivered and every malformed one is counted by
// malformed.
func MalformedAreCountedNotDelivered(t *testing.T, b wsmanager.Broker, malformedTopics []string, aliceTopic string, publish func(topic string), malformed func() uint64) {
	t.Helper()
	got := make(chan string, len(malformedTopics)+1)
	unsub, err := b.Subscribe(func(userID string, _ []byte) { got <- userID })
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range append(malformedTopics, aliceTopic) {
		publish(topic)
	}
	if u := <-got; u != "alice" {
		t.Errorf("delivered to %q", u)
	}
	WaitFor(t, "the malformed messages to be counted", func() bool { return malformed() == uint64(len(malformedTopics)) })
	if err := unsub(); err != nil {
		t.Error(err)
	}
	if len(got) != 0 {
		t.Errorf("a malformed message was delivered, to %q", <-got)
	}
}
