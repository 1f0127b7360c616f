package natsbroker_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// startJetStream starts an in-process nats-server with JetStream on
// 127.0.0.1, storing in dir (a new temporary directory if empty), on port
// (-1: any).
func startJetStream(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return startNATSWith(t, server.Options{Port: port, JetStream: true, StoreDir: dir})
}

// connectLog returns a Log on its own connection to url, made with
// natsOpts too, closed when the test ends, and the connection.
func connectLog(t *testing.T, url string, opts natsbroker.LogOptions, natsOpts ...nats.Option) (*natsbroker.Log, *nats.Conn) {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = "test.users"
	}
	if opts.Logger == nil {
		opts.Logger = brokertest.Quiet()
	}
	nc, err := nats.Connect(url, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(20 * time.Millisecond), nats.ReconnectBufSize(-1),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, natsOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	l, err := natsbroker.NewLog(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l, nc
}

// historyOn is the Options of a Factory that keeps its history in a Log.
func historyOn(queue int) wsmanager.Options {
	return wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 1}, QueueSize: queue}
}

// TestLogResumesOnAnotherNodeAfterOneIsKilled runs three nodes over one
// JetStream stream, each with its own connection; the first node is killed
// mid-traffic and its clients resume on the others: every client gets every
// message exactly once, in order.
func TestLogResumesOnAnotherNodeAfterOneIsKilled(t *testing.T) {
	t.Parallel()
	const total = 300
	srv := startJetStream(t, "", -1)
	var c brokertest.LogCluster
	var first *nats.Conn
	for i := range c.Nodes {
		l, nc := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
		if i == 0 {
			first = nc
		}
		c.Nodes[i] = brokertest.NewFactory(t, l, historyOn(total))
	}
	c.Kill = func() {
		first.Close()
		if err := c.Nodes[0].Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
	brokertest.ResumeAcrossNodes(t, c, total)
}

// rawJetStream is a client of the server that is no node: what anyone
// allowed to publish on the stream's subjects could do.
func rawJetStream(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// join connects a client with no position yet for uc to f and returns it
// with its position: the stream's head.
func join(t *testing.T, f *wsmanager.Factory, uc wsmanager.UserContext) *brokertest.Client {
	t.Helper()
	cl := &brokertest.Client{}
	s := resume(t, f, uc, cl)
	leave(t, s, cl, 1)
	return cl
}

// resume connects cl to f for uc from its position.
func resume(t *testing.T, f *wsmanager.Factory, uc wsmanager.UserContext, cl *brokertest.Client) *brokertest.Session {
	t.Helper()
	s, err := brokertest.Resume(f, uc, cl.Pos)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leave waits until s was written n messages, disconnects it and hands what
// it was written to cl.
func leave(t *testing.T, s *brokertest.Session, cl *brokertest.Client, n int) {
	t.Helper()
	if !s.Wait(n) {
		t.Fatalf("%d messages written, want %d: %q", s.Peer.Count(), n, s.Peer.Written())
	}
	written, err := s.Leave()
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Take(written); err != nil {
		t.Fatal(err)
	}
}

// TestLogForgedEnvelopesAreDropped: with a BrokerKey, what a client of
// NATS without the key stores on a user's subject of the stream (an
// unsigned envelope, one with a made-up signature, a genuine envelope for
// another user, or one for another thread of the same user) is neither
// delivered nor replayed, and is counted on every node; the genuine
// message is both.
func TestLogForgedEnvelopesAreDropped(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	key := []byte("a cluster key of at least 32 bytes, shared by every node")
	opts := historyOn(100)
	opts.BrokerKey = key
	la, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	lb, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	a, b := brokertest.NewFactory(t, la, opts), brokertest.NewFactory(t, lb, opts)
	alice := wsmanager.UserContext{UserID: "alice"}
	start := join(t, b, alice)

	nc, js := rawJetStream(t, srv.ClientURL())
	capture := func(userID string, send func()) *nats.Msg {
		t.Helper()
		sub, err := nc.SubscribeSync(brokerkit.Topic("test.users.log", userID))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		send()
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("no genuine envelope for %s crossed: %v", userID, err)
		}
		return m
	}
	ctx := context.Background()
	forBob := capture("bob", func() {
		if _, err := a.SendToUser(ctx, "bob", []byte("genuine for bob")); err != nil {
			t.Fatal(err)
		}
	})
	forThread := capture("alice", func() {
		m, err := a.Manager(wsmanager.UserContext{UserID: "alice", ThreadID: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Send(ctx, []byte("genuine for thread t1")); err != nil {
			t.Fatal(err)
		}
	})
	if forThread.Header.Get("Ssot-Thread") == "" {
		t.Fatal("the thread's message carries no thread header")
	}

	node := make([]byte, 16)
	forgeries := [][]byte{
		append(append([]byte{3}, node...), "forged, unsigned"...),
		append(append(append([]byte{4}, node...), make([]byte, 32)...), "forged, made-up signature"...),
		forBob.Data,    // another user's, on alice's subject
		forThread.Data, // thread t1's, without its thread: for all of alice's connections
	}
	for _, f := range forgeries {
		if _, err := js.Publish(ctx, brokerkit.Topic("test.users.log", "alice"), f); err != nil {
			t.Fatal(err)
		}
	}
	s := resume(t, b, alice, start)
	if _, err := a.SendToUser(ctx, "alice", []byte("genuine")); err != nil {
		t.Fatal(err)
	}
	cl := *start
	leave(t, s, &cl, 1)
	if diff := cmp.Diff([]string{"genuine"}, cl.Got); diff != "" {
		t.Errorf("alice received (-want +got):\n%s", diff)
	}
	// b met each forgery twice: replaying them to the resuming connection,
	// and delivering them live (before the genuine message, in stream
	// order); a, which holds no connection of alice, not at all.
	brokertest.WaitFor(t, "every forgery to be rejected", func() bool {
		return b.Stats().BrokerRejected == 8
	})
	for i, n := range []*wsmanager.Factory{a, b} {
		if st := n.Stats(); st.BrokerMalformed != 0 || st.ResumeResets != 0 {
			t.Errorf("node %d: malformed %d, resets %d; want none", i, st.BrokerMalformed, st.ResumeResets)
		}
	}
	if st := a.Stats(); st.BrokerRejected != 0 {
		t.Errorf("node 0, without alice, rejected %d of alice's messages; want none received", st.BrokerRejected)
	}
}

// sendAll sends each message to userID from f.
func sendAll(t *testing.T, f *wsmanager.Factory, userID string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if _, err := f.SendToUser(context.Background(), userID, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLogStreamCreatedAgainIsANewEpoch: a stream deleted while nodes run
// is created again by them, as a new epoch: a connection open meanwhile
// gets the new messages, and a client that resumes with a position of the
// old epoch gets a reset.
func TestLogStreamCreatedAgainIsANewEpoch(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	f := brokertest.NewFactory(t, l, historyOn(100))
	alice := wsmanager.UserContext{UserID: "alice"}
	cl := join(t, f, alice)
	old := cl.Pos
	sendAll(t, f, "alice", "old 0", "old 1")
	s := resume(t, f, alice, cl)
	if !s.Wait(2) {
		t.Fatal("the old messages were not replayed")
	}

	_, js := rawJetStream(t, srv.ClientURL())
	if err := js.DeleteStream(context.Background(), l.Stream()); err != nil {
		t.Fatal(err)
	}
	// Appends fail until the node has created the stream again.
	brokertest.WaitFor(t, "the stream to be created again", func() bool {
		_, err := f.SendToUserWait(context.Background(), "alice", []byte("new"))
		return err == nil
	})
	leave(t, s, cl, 3)
	if diff := cmp.Diff([]string{"old 0", "old 1", "new"}, cl.Got); diff != "" {
		t.Errorf("the open connection got (-want +got):\n%s", diff)
	}
	if cl.Pos.Epoch == old.Epoch || cl.Pos.Seq != 1 {
		t.Errorf("position %v after the stream was created again, want sequence 1 of a new epoch (the old was %x)", cl.Pos, old.Epoch)
	}

	stale := &brokertest.Client{Pos: old}
	leave(t, resume(t, f, alice, stale), stale, 1)
	if stale.Resets != 1 || len(stale.Got) != 0 || stale.Pos != cl.Pos {
		t.Errorf("a position of the old epoch: %d resets, %q, position %v; want a reset to %v", stale.Resets, stale.Got, stale.Pos, cl.Pos)
	}
	if st := f.Stats(); st.ResumeResets != 1 {
		t.Errorf("ResumeResets = %d, want 1", st.ResumeResets)
	}
}

// TestLogSurvivesANATSRestart: with file storage, a restart of NATS loses
// nothing: the epoch is the same, a node's deliveries go on from where they
// stopped, and a position from before the restart resumes.
func TestLogSurvivesANATSRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startJetStream(t, dir, -1)
	port := srv.Addr().(*net.TCPAddr).Port
	la, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	lb, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	a, b := brokertest.NewFactory(t, la, historyOn(100)), brokertest.NewFactory(t, lb, historyOn(100))
	alice := wsmanager.UserContext{UserID: "alice"}
	cl := join(t, b, alice)
	s := resume(t, b, alice, cl)
	sendAll(t, a, "alice", "0", "1", "2")
	if !s.Wait(3) {
		t.Fatal("no live delivery before the restart")
	}

	srv.Shutdown()
	srv.WaitForShutdown()
	brokertest.WaitFor(t, "the nodes to notice the outage", func() bool { return !la.Connected() && !lb.Connected() })
	startJetStream(t, dir, port)
	brokertest.WaitFor(t, "the nodes to reconnect", func() bool { return la.Connected() && lb.Connected() })
	for _, m := range []string{"3", "4", "5"} {
		// JetStream takes a moment to recover the stream after the server
		// accepts connections.
		brokertest.WaitFor(t, "an append after the restart", func() bool {
			_, err := a.SendToUserWait(context.Background(), "alice", []byte(m))
			return err == nil
		})
	}
	leave(t, s, cl, 6)
	if diff := cmp.Diff([]string{"0", "1", "2", "3", "4", "5"}, cl.Got); diff != "" {
		t.Errorf("the connection open across the restart got (-want +got):\n%s", diff)
	}
	// A client that left before the restart resumes after it.
	before := &brokertest.Client{}
	if err := before.Take(s.Peer.Written()[:2]); err != nil {
		t.Fatal(err)
	}
	leave(t, resume(t, b, alice, before), before, 4)
	if diff := cmp.Diff([]string{"0", "1", "2", "3", "4", "5"}, before.Got); diff != "" || before.Resets != 0 {
		t.Errorf("a position from before the restart: %d resets, got (-want +got):\n%s", before.Resets, diff)
	}
	if la.Stats().Reconnects != 1 || lb.Stats().Reconnects != 1 {
		t.Errorf("Reconnects = %d and %d, want 1 each", la.Stats().Reconnects, lb.Stats().Reconnects)
	}
}

// TestLogSubscribeLog: a subscription hands on, in stream order and with
// their positions, the messages Append stored, and counts the others:
// under a subject Append does not make, or with a thread header it does
// not write.
func TestLogSubscribeLog(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	type delivery struct {
		User, Thread, Msg string
		Pos               wsmanager.Position
	}
	got := make(chan delivery, 10)
	unsub, err := l.SubscribeLog(func(user, thread string, pos wsmanager.Position, msg []byte) {
		got <- delivery{user, thread, string(msg), pos}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	_, js := rawJetStream(t, srv.ClientURL())
	ctx := context.Background()
	if _, err := js.Publish(ctx, "test.users.log.!!!", []byte("not a user")); err != nil {
		t.Fatal(err)
	}
	badThread := &nats.Msg{Subject: brokerkit.Topic("test.users.log", "alice"), Header: nats.Header{"Ssot-Thread": []string{"not base64url!"}}, Data: []byte("x")}
	if _, err := js.PublishMsg(ctx, badThread); err != nil {
		t.Fatal(err)
	}
	p1 := appendAll(t, l, "a.*>", "t", "first")[0]
	p2 := appendAll(t, l, "bob", "", "second")[0]
	want := []delivery{{"a.*>", "t", "first", p1}, {"bob", "", "second", p2}}
	for i, w := range want {
		select {
		case d := <-got:
			if diff := cmp.Diff(w, d); diff != "" {
				t.Errorf("delivery %d (-want +got):\n%s", i, diff)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d never came", i)
		}
	}
	if st := l.Stats(); st.Malformed != 2 || st.Delivered != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 2 malformed and 2 delivered", st)
	}
	if err := unsub(); err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, "bob", "", "after unsubscribe")
	select {
	case d := <-got:
		t.Errorf("delivered after unsubscribe: %+v", d)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestLogEvictedBeforeReadAreCountedDropped: a node whose deliveries fall
// behind the stream's limits misses the messages evicted before it read
// them, and counts them: every message is either delivered or dropped,
// never both, never neither, and the newest is delivered.
func TestLogEvictedBeforeReadAreCountedDropped(t *testing.T) {
	t.Parallel()
	const sent = 1500 // more than a node's consumer holds in the client
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{MessagesPerUser: 2})
	release := make(chan struct{})
	var last atomic.Value
	unsub, err := l.SubscribeLog(func(_, _ string, _ wsmanager.Position, msg []byte) {
		<-release // the node stops keeping up until every message is stored
		last.Store(string(msg))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	for i := range sent {
		appendAll(t, l, "alice", "", strconv.Itoa(i))
	}
	close(release)
	brokertest.WaitFor(t, "every message to be delivered or dropped", func() bool {
		st := l.Stats()
		return st.Delivered+st.Dropped == sent
	})
	if st := l.Stats(); st.Dropped == 0 || last.Load() != strconv.Itoa(sent-1) {
		t.Errorf("stats %+v, last delivered %v; want some dropped and the newest delivered", st, last.Load())
	}
}

// TestLogWithoutHistoryIsABroker: a Factory without history uses a Log as
// the Broker it also is, over NATS core, and stores nothing in the stream.
func TestLogWithoutHistoryIsABroker(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	var nodes []*wsmanager.Factory
	var logs []*natsbroker.Log
	for range 3 {
		l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
		logs = append(logs, l)
		nodes = append(nodes, brokertest.NewFactory(t, l, wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)
	head, err := logs[0].Replay(context.Background(), "alice", wsmanager.Position{}, nil)
	if err != nil || head.Seq != 0 {
		t.Errorf("the stream's head is %v, %v; want nothing stored", head, err)
	}
}

// logPermissions are the permissions the package doc lists for a node of
// a Log with the prefix "test.users" and the stream "test_users".
func logPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"test.users.*", "test.users.log.*",
			"$JS.API.STREAM.INFO.test_users", "$JS.API.STREAM.CREATE.test_users", "$JS.API.STREAM.UPDATE.test_users",
			"$JS.API.STREAM.MSG.GET.test_users",
			"$JS.API.CONSUMER.CREATE.test_users.>", "$JS.API.CONSUMER.DELETE.test_users.>", "$JS.API.CONSUMER.MSG.NEXT.test_users.>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{"test.users.*", "test.users.live.*", "_INBOX.>"}},
	}
}

// TestLogDocumentedPermissionsSuffice runs two nodes with history over a
// NATS user that holds exactly the permissions the package doc lists:
// appends, deliveries and a resume work, and the same user cannot delete
// the stream.
func TestLogDocumentedPermissionsSuffice(t *testing.T) {
	t.Parallel()
	srv := startNATSWith(t, server.Options{Port: -1, JetStream: true, StoreDir: t.TempDir(),
		Users: []*server.User{{Username: "chat", Password: "pw", Permissions: logPermissions()}}})
	url := fmt.Sprintf("nats://chat:pw@%s", srv.Addr())
	la, nc := connectLog(t, url, natsbroker.LogOptions{})
	lb, _ := connectLog(t, url, natsbroker.LogOptions{})
	a, b := brokertest.NewFactory(t, la, historyOn(100)), brokertest.NewFactory(t, lb, historyOn(100))
	alice := wsmanager.UserContext{UserID: "alice"}
	cl := join(t, b, alice)
	s := resume(t, b, alice, cl)
	sendAll(t, a, "alice", "0", "1")
	leave(t, s, cl, 2)
	sendAll(t, a, "alice", "2", "3")
	leave(t, resume(t, b, alice, cl), cl, 2) // replayed
	if diff := cmp.Diff([]string{"0", "1", "2", "3"}, cl.Got); diff != "" {
		t.Errorf("alice got (-want +got):\n%s", diff)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A refused request goes unanswered: a short wait tells.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := js.DeleteStream(ctx, la.Stream()); err == nil {
		t.Error("a node's user deleted the stream")
	}
	if _, err := js.Stream(context.Background(), la.Stream()); err != nil {
		t.Errorf("the stream after the refused delete: %v", err)
	}
}
