package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// recorder collects deliveries, user by user.
type recorder struct {
	mu  sync.Mutex
	got map[string][]string
}

func (r *recorder) deliver(userID string, msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string][]string{}
	}
	r.got[userID] = append(r.got[userID], string(msg))
}

func (r *recorder) of(userID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[userID]...)
}

// subscribeUsers returns b's Interest, closed when the test ends, with
// users added.
func subscribeUsers(t *testing.T, b *natsbroker.Broker, r *recorder, users ...string) wsmanager.Interest {
	t.Helper()
	in, err := b.SubscribeUsers(r.deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, u := range users {
		if err := in.Add(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func publish(t *testing.T, b *natsbroker.Broker, userID, msg string) {
	t.Helper()
	if err := b.Publish(context.Background(), userID, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// TestInterestDeliversOnlyItsUsers: a message published right after Add
// returns is delivered; a user not added, or removed, gets nothing. Each
// check ends with a message for a user still added, published after the
// one that must not arrive, so that its arrival shows the other did not.
func TestInterestDeliversOnlyItsUsers(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	pub, node := newBroker(t, srv.ClientURL()), newBroker(t, srv.ClientURL())
	var r recorder
	in := subscribeUsers(t, node, &r, "alice")
	publish(t, pub, "bob", "b1")
	publish(t, pub, "alice", "a1")
	// a1 came after b1 from one publisher: b1 has met the server by now.
	brokertest.WaitFor(t, "alice's message", func() bool { return len(r.of("alice")) == 1 })
	if err := in.Add(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "bob", "b2")
	brokertest.WaitFor(t, "bob's message", func() bool { return len(r.of("bob")) == 1 })

	if err := in.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	// Add flushes the connection, so the server has the removal too.
	if err := in.Add(context.Background(), "carol"); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "alice", "a2")
	publish(t, pub, "carol", "c1")
	brokertest.WaitFor(t, "carol's message", func() bool { return len(r.of("carol")) == 1 })
	for user, want := range map[string]string{"alice": "a1", "bob": "b2", "carol": "c1"} {
		if got := r.of(user); len(got) != 1 || got[0] != want {
			t.Errorf("%s got %q, want [%s]", user, got, want)
		}
	}
	if st := node.Stats(); st.Delivered != 3 {
		t.Errorf("Delivered = %d, want 3", st.Delivered)
	}
}

// TestInterestHostileUserIDsStayApart: user IDs holding NATS's token
// separator, wildcards and white space, each added on a node of its own,
// each get their own messages and no other user's.
func TestInterestHostileUserIDsStayApart(t *testing.T) {
	t.Parallel()
	users := []string{"alice", "alice.bob", "*", ">", "alice.*", "alice.>", "al ice", "a\tb", ".", "..", "a..b"}
	srv := startNATS(t, -1)
	pub := newBroker(t, srv.ClientURL())
	recs := make([]*recorder, len(users))
	for i, u := range users {
		recs[i] = &recorder{}
		subscribeUsers(t, newBroker(t, srv.ClientURL()), recs[i], u)
	}
	for _, msg := range []string{"first", "last"} {
		for _, u := range users {
			publish(t, pub, u, msg+" for "+u)
		}
	}
	// Each node's last message comes after every other it could get.
	brokertest.WaitFor(t, "every user's last message", func() bool {
		for i, u := range users {
			if got := recs[i].of(u); len(got) < 2 {
				return false
			}
		}
		return true
	})
	for i, u := range users {
		want := map[string][]string{u: {"first for " + u, "last for " + u}}
		recs[i].mu.Lock()
		if diff := cmp.Diff(want, recs[i].got); diff != "" {
			t.Errorf("the node of %q got (-want +got):\n%s", u, diff)
		}
		recs[i].mu.Unlock()
	}
}

// TestInterestAddFails: Add refuses an invalid user ID, a context that has
// ended, a connection that is down and a closed Interest, and the user is
// then not added.
func TestInterestAddFails(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	var r recorder
	b := newBroker(t, srv.ClientURL())
	in := subscribeUsers(t, b, &r)
	ctx := context.Background()
	if err := in.Add(ctx, ""); !errors.Is(err, natsbroker.ErrInvalidUser) {
		t.Errorf("empty user ID: %v", err)
	}
	if err := in.Add(ctx, strings.Repeat("u", natsbroker.MaxUserIDLen+1)); !errors.Is(err, natsbroker.ErrInvalidUser) {
		t.Errorf("long user ID: %v", err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := in.Add(ended, "alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	// alice was not added: a later Add subscribes.
	if err := in.Add(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	publish(t, newBroker(t, srv.ClientURL()), "alice", "after")
	brokertest.WaitFor(t, "alice's message", func() bool { return len(r.of("alice")) == 1 })

	srv.Shutdown()
	srv.WaitForShutdown()
	brokertest.WaitFor(t, "the outage to be noticed", func() bool { return !b.Connected() })
	if err := in.Add(ctx, "bob"); !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Errorf("while disconnected: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Add(ctx, "carol"); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestInterestThreeNodesReceiveOnlyTheirUsers runs three nodes, each
// holding its own users' connections, and checks, by the NATS server's own
// count of the messages it sent each node's connection, that a node is
// sent no more than a tenth over the messages addressed to its users,
// instead of every message of the cluster.
func TestInterestThreeNodesReceiveOnlyTheirUsers(t *testing.T) {
	t.Parallel()
	const perUser, usersPerNode = 50, 4
	srv := startNATS(t, -1)
	var nodes [3]*wsmanager.Factory
	for i := range nodes {
		b, err := natsbroker.Connect(srv.ClientURL(), natsbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet()}, nats.Name(fmt.Sprintf("node-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		nodes[i] = brokertest.NewFactory(t, b, wsmanager.Options{QueueSize: perUser * len(nodes)})
	}
	type conn interface{ Count() int }
	var conns []conn
	for i, f := range nodes {
		for u := range usersPerNode {
			conns = append(conns, brokertest.Connect(t, f, fmt.Sprintf("user-%d-%d", i, u)))
		}
	}
	// Every node sends to every user, its own included.
	for k := range perUser {
		for i := range nodes {
			for u := range usersPerNode {
				if _, err := nodes[(i+k)%len(nodes)].SendToUser(context.Background(), fmt.Sprintf("user-%d-%d", i, u), []byte("m")); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	brokertest.WaitFor(t, "every message to arrive", func() bool {
		for _, c := range conns {
			if c.Count() != perUser {
				return false
			}
		}
		return true
	})
	connz, err := srv.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A node holds usersPerNode users, each sent perUser messages; those
	// the node sends itself come back to it too, as to any node holding
	// the user.
	addressed := float64(usersPerNode * perUser)
	seen := 0
	for _, c := range connz.Conns {
		if !strings.HasPrefix(c.Name, "node-") {
			continue
		}
		seen++
		if ratio := float64(c.OutMsgs) / addressed; ratio > 1.1 || ratio < 1 {
			t.Errorf("%s was sent %d messages for the %.0f addressed to its users: %.2fx", c.Name, c.OutMsgs, addressed, ratio)
		}
		t.Logf("%s: sent %d, addressed %.0f", c.Name, c.OutMsgs, addressed)
	}
	if seen != len(nodes) {
		t.Fatalf("found %d nodes' connections, want %d", seen, len(nodes))
	}
}

// TestInterestSlowDeliveriesDropAndCount: an Interest whose deliveries
// fall behind keeps PendingMessages waiting and drops and counts the rest;
// every message is either delivered or dropped.
func TestInterestSlowDeliveriesDropAndCount(t *testing.T) {
	t.Parallel()
	const sent, pending = 20, 2
	srv := startNATS(t, -1)
	node, err := natsbroker.Connect(srv.ClientURL(), natsbroker.Options{Prefix: "test.users", PendingMessages: pending, Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close(context.Background()) })
	got := make(chan string, sent)
	release := make(chan struct{})
	first := true
	in, err := node.SubscribeUsers(func(_ string, msg []byte) {
		got <- string(msg)
		if first { // deliveries are one at a time
			first = false
			<-release // the node stops keeping up
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.Add(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	pub := newBroker(t, srv.ClientURL())
	publish(t, pub, "alice", "00")
	<-got
	for i := 1; i < sent; i++ {
		publish(t, pub, "alice", fmt.Sprintf("%02d", i))
	}
	brokertest.WaitFor(t, "the messages past the limit to be dropped", func() bool { return node.Stats().Dropped == sent-1-pending })
	close(release)
	for i := 1; i <= pending; i++ {
		if m, want := <-got, fmt.Sprintf("%02d", i); m != want {
			t.Errorf("delivered %s, want %s: the oldest waiting are kept", m, want)
		}
	}
	brokertest.WaitFor(t, "the counters to settle", func() bool {
		st := node.Stats()
		return st.Delivered+st.Dropped == sent
	})
}
