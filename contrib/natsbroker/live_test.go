package natsbroker_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// logDelivery is one call of a LogRouter's deliver function.
type logDelivery struct {
	User, Thread, Msg string
	Pos               wsmanager.Position
}

// logRecorder collects a LogRouter's deliveries, user by user; check, if
// set, is called with each from the delivering goroutine.
type logRecorder struct {
	check func(logDelivery)
	mu    sync.Mutex
	got   map[string][]logDelivery
	n     int
}

func (r *logRecorder) deliver(userID, threadID string, pos wsmanager.Position, msg []byte) {
	d := logDelivery{userID, threadID, string(msg), pos}
	if r.check != nil {
		r.check(d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string][]logDelivery{}
	}
	r.got[userID] = append(r.got[userID], d)
	r.n++
}

func (r *logRecorder) of(userID string) []logDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logDelivery(nil), r.got[userID]...)
}

func (r *logRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// subscribeLogUsers returns l's Interest, closed when the test ends, with
// users added.
func subscribeLogUsers(t *testing.T, l *natsbroker.Log, r *logRecorder, users ...string) wsmanager.Interest {
	t.Helper()
	in, err := l.SubscribeLogUsers(r.deliver)
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

// TestLogInterestDeliversStoredMessagesOfItsUsers: a node's Interest hands
// on, with thread and position, only messages already in the stream, and
// only its users'; a removed user gets nothing more; what JetStream did not
// republish, or Append did not write, is counted and not delivered.
func TestLogInterestDeliversStoredMessagesOfItsUsers(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	node, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	nc, js := rawJetStream(t, srv.ClientURL())
	stream, err := js.Stream(context.Background(), l.Stream())
	if err != nil {
		t.Fatal(err)
	}
	var notStored []logDelivery
	r := logRecorder{check: func(d logDelivery) {
		if m, err := stream.GetMsg(context.Background(), d.Pos.Seq); err != nil || string(m.Data) != d.Msg {
			notStored = append(notStored, d)
		}
	}}
	in := subscribeLogUsers(t, node, &r, "a.*>", "bob")
	ctx := context.Background()

	// Neither JetStream's republishing nor Append's.
	if err := nc.Publish(brokerkit.Topic("test.users.live", "bob"), []byte("forged live")); err != nil {
		t.Fatal(err)
	}
	badThread := &nats.Msg{Subject: brokerkit.Topic("test.users.log", "bob"), Header: nats.Header{"Ssot-Thread": []string{"not base64url!"}}, Data: []byte("x")}
	if _, err := js.PublishMsg(ctx, badThread); err != nil {
		t.Fatal(err)
	}
	p1 := appendAll(t, l, "a.*>", "t", "first")[0]
	appendAll(t, l, "a", "", "not added")
	p2 := appendAll(t, l, "bob", "", "second")[0]
	brokertest.WaitFor(t, "bob's message", func() bool { return len(r.of("bob")) == 1 })
	if err := in.Remove("a.*>"); err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, "a.*>", "t", "after remove")
	p3 := appendAll(t, l, "bob", "", "third")[0]
	brokertest.WaitFor(t, "bob's second message", func() bool { return len(r.of("bob")) == 2 })

	want := map[string][]logDelivery{
		"a.*>": {{"a.*>", "t", "first", p1}},
		"bob":  {{"bob", "", "second", p2}, {"bob", "", "third", p3}},
	}
	r.mu.Lock()
	if diff := cmp.Diff(want, r.got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if len(notStored) != 0 {
		t.Errorf("delivered before the stream held them: %+v", notStored)
	}
	r.mu.Unlock()
	if st := node.Stats(); st.Malformed != 2 || st.Delivered != 3 {
		t.Errorf("stats %+v, want 2 malformed and 3 delivered", st)
	}
}

// cutDialer dials the server until cut, which closes its connections and
// fails dials until restore.
type cutDialer struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (d *cutDialer) Dial(network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, fmt.Errorf("cut")
	}
	c, err := net.Dial(network, address)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = true
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = nil
}

func (d *cutDialer) restore() {
	d.mu.Lock()
	d.down = false
	d.mu.Unlock()
}

// TestLogInterestCatchesUpAfterReconnect: messages stored while a node's
// connection is down are delivered once it is back, without waiting for
// the user's next message, each exactly once and in order, then the live
// ones.
func TestLogInterestCatchesUpAfterReconnect(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	var dialer cutDialer
	node, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{}, nats.SetCustomDialer(&dialer))
	var r logRecorder
	subscribeLogUsers(t, node, &r, "alice", "bob")
	appendAll(t, l, "alice", "", "a0")
	brokertest.WaitFor(t, "the first message", func() bool { return r.count() == 1 })

	dialer.cut()
	brokertest.WaitFor(t, "the node to notice", func() bool { return !node.Connected() })
	appendAll(t, l, "alice", "", "a1", "a2")
	appendAll(t, l, "bob", "", "b0")
	appendAll(t, l, "carol", "", "c0")
	dialer.restore()
	brokertest.WaitFor(t, "the missed messages", func() bool { return r.count() == 4 })
	appendAll(t, l, "alice", "", "a3")
	appendAll(t, l, "bob", "", "b1")
	brokertest.WaitFor(t, "the live messages", func() bool { return r.count() == 6 })

	for user, want := range map[string][]string{"alice": {"a0", "a1", "a2", "a3"}, "bob": {"b0", "b1"}} {
		var got []string
		var last uint64
		for _, d := range r.of(user) {
			got = append(got, d.Msg)
			if d.Pos.Seq <= last {
				t.Errorf("%s: %q at %v after sequence %d", user, d.Msg, d.Pos, last)
			}
			last = d.Pos.Seq
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s got (-want +got):\n%s", user, diff)
		}
	}
	if r.count() != 6 {
		t.Errorf("%d deliveries, want 6", r.count())
	}
}

// TestLogInterestSurvivesANATSRestart: with the server restarted on its
// store, a node's Interest delivers what was stored since, after the
// messages before, none twice.
func TestLogInterestSurvivesANATSRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startJetStream(t, dir, -1)
	port := srv.Addr().(*net.TCPAddr).Port
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	node, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	var r logRecorder
	subscribeLogUsers(t, node, &r, "alice")
	appendAll(t, l, "alice", "", "0", "1")
	brokertest.WaitFor(t, "the messages before the restart", func() bool { return r.count() == 2 })
	srv.Shutdown()
	srv.WaitForShutdown()
	brokertest.WaitFor(t, "the nodes to notice", func() bool { return !l.Connected() && !node.Connected() })
	startJetStream(t, dir, port)
	for _, m := range []string{"2", "3"} {
		brokertest.WaitFor(t, "an append after the restart", func() bool {
			_, err := l.Append(context.Background(), "alice", "", []byte(m))
			return err == nil
		})
	}
	brokertest.WaitFor(t, "the messages after the restart", func() bool { return r.count() >= 4 })
	var got []string
	for _, d := range r.of("alice") {
		got = append(got, d.Msg)
	}
	if diff := cmp.Diff([]string{"0", "1", "2", "3"}, got); diff != "" {
		t.Errorf("alice got (-want +got):\n%s", diff)
	}
}

// TestLogUpdatesAStreamWithoutRePublish: a stream made before Logs
// routed by interest, without RePublish, gets it when a node starts, and
// its Interest then delivers.
func TestLogUpdatesAStreamWithoutRePublish(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	_, js := rawJetStream(t, srv.ClientURL())
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "test_users", Subjects: []string{"test.users.log.*"}, MaxMsgsPerSubject: 1000}); err != nil {
		t.Fatal(err)
	}
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	s, err := js.Stream(ctx, "test_users")
	if err != nil {
		t.Fatal(err)
	}
	if rp := s.CachedInfo().Config.RePublish; rp == nil || rp.Destination != "test.users.live.{{wildcard(1)}}" {
		t.Fatalf("the stream's RePublish is %+v", rp)
	}
	var r logRecorder
	subscribeLogUsers(t, l, &r, "alice")
	appendAll(t, l, "alice", "", "hello")
	brokertest.WaitFor(t, "the message", func() bool { return r.count() == 1 })
}

// TestLogThreeNodesReceiveOnlyTheirUsers runs three nodes with history
// over one stream, each holding its own users' connections, and checks,
// by the NATS server's own count of the messages it sent each node's
// connection, that a node is sent its users' messages, the
// acknowledgements of its own appends and a few JetStream API answers, no
// more than a tenth over the first two together, instead of the whole
// stream.
func TestLogThreeNodesReceiveOnlyTheirUsers(t *testing.T) {
	t.Parallel()
	const perUser, usersPerNode = 30, 4
	srv := startJetStream(t, "", -1)
	var nodes [3]*wsmanager.Factory
	for i := range nodes {
		l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{}, nats.Name(fmt.Sprintf("node-%d", i)))
		nodes[i] = brokertest.NewFactory(t, l, historyOn(perUser*len(nodes)))
	}
	type conn interface{ Count() int }
	var conns []conn
	for i, f := range nodes {
		for u := range usersPerNode {
			conns = append(conns, brokertest.Connect(t, f, fmt.Sprintf("user-%d-%d", i, u)))
		}
	}
	appended := make([]int, len(nodes))
	for k := range perUser {
		for i := range nodes {
			for u := range usersPerNode {
				n := (i + k) % len(nodes)
				if _, err := nodes[n].SendToUser(context.Background(), fmt.Sprintf("user-%d-%d", i, u), []byte("m")); err != nil {
					t.Fatal(err)
				}
				appended[n]++
			}
		}
	}
	brokertest.WaitFor(t, "every message to arrive", func() bool {
		for _, c := range conns {
			if c.Count() != perUser+1 { // and the reset frame a new connection starts with
				return false
			}
		}
		return true
	})
	connz, err := srv.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, c := range connz.Conns {
		var i int
		if _, err := fmt.Sscanf(c.Name, "node-%d", &i); err != nil {
			continue
		}
		seen++
		// Every message to a node's users comes back to it from the
		// stream, its own appends' included.
		expected := float64(usersPerNode*perUser + appended[i])
		if ratio := float64(c.OutMsgs) / expected; ratio > 1.1 || ratio < 1 {
			t.Errorf("%s was sent %d messages for the %.0f of its users and its acknowledgements: %.2fx", c.Name, c.OutMsgs, expected, ratio)
		}
		t.Logf("%s: sent %d, its users' messages and its acknowledgements %.0f", c.Name, c.OutMsgs, expected)
	}
	if seen != len(nodes) {
		t.Fatalf("found %d nodes' connections, want %d", seen, len(nodes))
	}
}

// TestLogInterestFollowsAStreamCreatedAgainElsewhere: a stream deleted
// and created again by another node is noticed by a node's Interest from
// the messages themselves: it delivers them, at the new epoch, though
// their sequences start over.
func TestLogInterestFollowsAStreamCreatedAgainElsewhere(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	node, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	var r logRecorder
	subscribeLogUsers(t, node, &r, "alice")
	old := appendAll(t, l, "alice", "", "old 0", "old 1")
	brokertest.WaitFor(t, "the old messages", func() bool { return r.count() == 2 })

	_, js := rawJetStream(t, srv.ClientURL())
	if err := js.DeleteStream(context.Background(), l.Stream()); err != nil {
		t.Fatal(err)
	}
	var pos wsmanager.Position
	brokertest.WaitFor(t, "the stream to be created again", func() bool {
		var err error
		pos, err = l.Append(context.Background(), "alice", "", []byte("new"))
		return err == nil
	})
	brokertest.WaitFor(t, "the new message", func() bool { return r.count() == 3 })
	got := r.of("alice")[2]
	if want := (logDelivery{"alice", "", "new", pos}); got != want || pos.Epoch == old[0].Epoch || pos.Seq != 1 {
		t.Errorf("delivered %+v, want %+v at sequence 1 of a new epoch (the old was %x)", got, want, old[0].Epoch)
	}
}
