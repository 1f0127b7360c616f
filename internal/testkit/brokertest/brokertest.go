// Package brokertest is the conformance suite of the wsmanager.Broker
// adapters under contrib/: every adapter's tests run a cluster of Factories
// over the real broker server through it, so each adapter is held to the
// same guarantees by the same assertions.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// WaitFor polls cond until it holds or ten seconds pass. Delivery over a
// real socket has no event to wait on; the bound keeps a broken test short.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Quiet returns a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// NewFactory returns a Factory over b, closed when the test ends (before
// the caller's own cleanups registered earlier, such as closing b).
func NewFactory(t testing.TB, b wsmanager.Broker, opts wsmanager.Options) *wsmanager.Factory {
	t.Helper()
	opts.Broker = b
	if opts.Logger == nil {
		opts.Logger = Quiet()
	}
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return f
}

// Connect serves a new in-memory connection for user on f and waits until
// it is ready to receive.
func Connect(t testing.TB, f *wsmanager.Factory, user string) *memconn.Conn {
	t.Helper()
	m, err := f.Manager(wsmanager.UserContext{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	c := memconn.New(memconn.Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Serve(context.Background(), c, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()
	t.Cleanup(func() {
		c.PeerClose()
		<-done
	})
	WaitFor(t, "the connection to be ready", func() bool {
		for _, conn := range m.Connections() {
			if conn.State().IsOperational() {
				return true
			}
		}
		return false
	})
	return c
}

func messages(c *memconn.Conn) []string {
	var out []string
	for _, m := range c.Written() {
		out = append(out, string(m))
	}
	return out
}

// ExactlyOnceInOrder checks the cross-node guarantee over three or more
// Factories sharing one healthy broker: every connection of a user, on
// every node, receives every SendToUser of every node exactly once, in each
// publisher's order, and no other user's message; a user ID full of
// separators, wildcards and glob characters reaches exactly its own
// connection.
func ExactlyOnceInOrder(t *testing.T, nodes []*wsmanager.Factory) {
	t.Helper()
	var alice []*memconn.Conn
	for _, n := range nodes {
		alice = append(alice, Connect(t, n, "alice"))
	}
	bob := Connect(t, nodes[1], "bob")
	odd := "carol.*>?[a-z]\\" // a wildcard or a pattern if pasted into a topic
	carol := Connect(t, nodes[2], odd)
	oddPrefix := Connect(t, nodes[2], "carol") // what a pasted pattern would reach

	const perNode = 50
	ctx := context.Background()
	for seq := range perNode + 1 {
		for i, n := range nodes {
			msg := fmt.Sprintf("n%d-%03d", i, seq)
			if seq == perNode {
				msg = fmt.Sprintf("n%d-end", i)
			}
			if local, err := n.SendToUser(ctx, "alice", []byte(msg)); err != nil || local != 1 {
				t.Fatalf("SendToUser from node %d = %d, %v", i, local, err)
			}
		}
	}
	if _, err := nodes[0].SendToUser(ctx, odd, []byte("for carol")); err != nil {
		t.Fatal(err)
	}
	for ci, c := range alice {
		// The end markers come last from each publisher, so once all of
		// them are in, everything each node published before them is too.
		WaitFor(t, fmt.Sprintf("alice's connection %d to receive every end marker", ci), func() bool {
			got := strings.Join(messages(c), " ")
			for i := range nodes {
				if !strings.Contains(got, fmt.Sprintf("n%d-end", i)) {
					return false
				}
			}
			return true
		})
		next := map[string]int{}
		for _, m := range messages(c) {
			pub, seq, _ := strings.Cut(m, "-")
			want := fmt.Sprintf("%03d", next[pub])
			if next[pub] == perNode {
				want = "end"
			}
			if seq != want {
				t.Fatalf("connection %d: got %s after %d messages of %s, want %s-%s (duplicate, gap or reorder)", ci, m, next[pub], pub, pub, want)
			}
			next[pub]++
		}
		for i := range nodes {
			if pub := fmt.Sprintf("n%d", i); next[pub] != perNode+1 {
				t.Errorf("connection %d got %d messages from %s, want %d", ci, next[pub], pub, perNode+1)
			}
		}
	}
	WaitFor(t, "carol's message", func() bool { return carol.Count() == 1 })
	// Carol's message crossed the broker to the node that also holds one
	// of alice's connections and "carol": a delivery that reached the wrong
	// user would have been made by now.
	if got := messages(bob); len(got) != 0 {
		t.Errorf("bob received messages for others: %v", got)
	}
	if got := messages(oddPrefix); len(got) != 0 {
		t.Errorf("user %q received messages for %q: %v", "carol", odd, got)
	}
	for ci, c := range alice {
		if got := c.Count(); got != len(nodes)*(perNode+1) {
			t.Errorf("alice's connection %d has %d messages, want %d: another user's message reached her", ci, got, len(nodes)*(perNode+1))
		}
	}
	if got := messages(carol); got[0] != "for carol" {
		t.Errorf("carol got %v", got)
	}
	for i, n := range nodes {
		if st := n.Stats(); st.BrokerErrors != 0 || st.BrokerMalformed != 0 {
			t.Errorf("node %d: stats %+v", i, st)
		}
	}
}

// Outage describes a broker outage for OutageKeepsLocalDeliveryAndResumes.
type Outage struct {
	Stop, Start func()      // stop and restart the broker server
	Connected   func() bool // whether both nodes' brokers are connected
	Down        func() bool // whether both nodes' brokers noticed the outage
	// ErrDown is the adapter's sentinel for a publish while disconnected.
	ErrDown error
	// Reconnects reads both brokers' count of restored connections.
	Reconnects func() (a, b uint64)
}

// OutageKeepsLocalDeliveryAndResumes checks what a broker outage does to
// two Factories a and b: SendToUser still delivers to the local connection
// and returns and counts ErrBroker wrapping o.ErrDown; the message never
// reaches the other node, even after the broker is back (at most once, no
// buffering); cross-node delivery resumes once the broker is back; and each
// broker counts one reconnect.
func OutageKeepsLocalDeliveryAndResumes(t *testing.T, a, b *wsmanager.Factory, o Outage) {
	t.Helper()
	localConn, remoteConn := Connect(t, a, "alice"), Connect(t, b, "alice")
	ctx := context.Background()

	o.Stop()
	WaitFor(t, "the brokers to notice the outage", o.Down)

	local, err := a.SendToUser(ctx, "alice", []byte("during outage"))
	if local != 1 || !errors.Is(err, wsmanager.ErrBroker) || !errors.Is(err, o.ErrDown) {
		t.Fatalf("SendToUser during the outage = %d, %v; want 1 local and ErrBroker wrapping %v", local, err, o.ErrDown)
	}
	WaitFor(t, "local delivery during the outage", func() bool { return localConn.Count() == 1 })
	if st := a.Stats(); st.BrokerErrors != 1 {
		t.Errorf("BrokerErrors = %d, want 1", st.BrokerErrors)
	}

	o.Start()
	WaitFor(t, "the brokers to reconnect", o.Connected)
	// A subscription may be restored a moment after the reconnect that
	// Connected reports: keep sending until one message crosses, then check
	// that later ones do.
	for i := 0; ; i++ {
		if _, err := a.SendToUser(ctx, "alice", []byte(fmt.Sprintf("probe-%d", i))); err != nil {
			t.Fatal(err)
		}
		crossed := false
		deadline := time.Now().Add(100 * time.Millisecond)
		for !crossed && time.Now().Before(deadline) {
			crossed = remoteConn.Count() > 0
			time.Sleep(5 * time.Millisecond)
		}
		if crossed {
			break
		}
		if i == 100 {
			t.Fatal("cross-node delivery did not resume")
		}
	}
	before := remoteConn.Count()
	if _, err := a.SendToUser(ctx, "alice", []byte("after")); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, "delivery after the restart", func() bool { return remoteConn.Count() == before+1 })
	for _, m := range messages(remoteConn) {
		if m == "during outage" {
			t.Error("a message published during the outage reached another node: delivery is at most once, and the broker must not buffer")
		}
	}
	if ra, rb := o.Reconnects(); ra != 1 || rb != 1 {
		t.Errorf("Reconnects = %d and %d after one restart, want 1 each", ra, rb)
	}
}
