package brokertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// Raw reaches the broker server directly, as any other client of it could,
// bypassing every Factory.
type Raw struct {
	// Publish puts payload on userID's topic.
	Publish func(userID string, payload []byte)
	// Subscribe returns the payloads published on userID's topic from now
	// on.
	Subscribe func(userID string) <-chan []byte
}

// ForgedEnvelopesAreDropped checks envelope authentication over a real
// broker: nodes a and b share a wsmanager.Options.BrokerKey, and what a
// client of the broker without the key publishes straight to the server
// on alice's topic (an unsigned envelope, one with a made-up signature, a
// genuine envelope for bob replayed to alice) never reaches alice's
// connection on b and is counted in Stats.BrokerRejected on both nodes,
// while a's genuine SendToUser does reach her.
func ForgedEnvelopesAreDropped(t *testing.T, a, b *wsmanager.Factory, raw Raw) {
	t.Helper()
	alice := Connect(t, b, "alice")
	ctx := context.Background()

	forBob := raw.Subscribe("bob")
	if _, err := a.SendToUser(ctx, "bob", []byte("genuine for bob")); err != nil {
		t.Fatal(err)
	}
	var replay []byte
	select {
	case replay = <-forBob:
	case <-time.After(10 * time.Second):
		t.Fatal("the envelope for bob never crossed the broker")
	}
	if !bytes.HasSuffix(replay, []byte("genuine for bob")) {
		t.Fatalf("captured %q, not bob's envelope", replay)
	}

	node := make([]byte, 16)
	rand.Read(node)
	unsigned := append(append([]byte{1}, node...), "forged, unsigned"...)
	badTag := append(append(append([]byte{2}, node...), make([]byte, 32)...), "forged, made-up signature"...)
	for _, forged := range [][]byte{unsigned, badTag, replay} {
		raw.Publish("alice", forged)
	}
	if _, err := a.SendToUser(ctx, "alice", []byte("genuine")); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, "every forgery to be rejected on both nodes", func() bool {
		return a.Stats().BrokerRejected == 3 && b.Stats().BrokerRejected == 3
	})
	WaitFor(t, "the genuine message", func() bool { return alice.Count() >= 1 })
	if got := messages(alice); len(got) != 1 || got[0] != "genuine" {
		t.Errorf("alice received %q, want only the genuine message", got)
	}
	for i, n := range []*wsmanager.Factory{a, b} {
		if st := n.Stats(); st.BrokerRejected != 3 || st.BrokerMalformed != 0 {
			t.Errorf("node %d: rejected %d, malformed %d; want 3 and 0", i, st.BrokerRejected, st.BrokerMalformed)
		}
	}
}
