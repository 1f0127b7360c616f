package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// waitFor polls cond until it holds or the deadline passes. Delivery over a
// real socket has no event to wait on; the bound keeps a broken test short.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startNATS(t *testing.T, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memConn is an in-memory wsmanager.Conn that records what is written to it.
type memConn struct {
	mu     sync.Mutex
	got    []string
	closed chan struct{}
	once   sync.Once
}

func newMemConn() *memConn { return &memConn{closed: make(chan struct{})} }

func (c *memConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *memConn) Write(_ context.Context, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, string(msg))
	return nil
}

func (c *memConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

type node struct {
	f *wsmanager.Factory
	b *natsbroker.Broker
}

func newNode(t *testing.T, url string) node {
	t.Helper()
	b, err := natsbroker.Connect(url, natsbroker.Options{Prefix: "test.users", Logger: quiet()}, nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return node{f: f, b: b}
}

// connect serves a new in-memory connection for user on n and waits until it
// is ready to receive.
func connect(t *testing.T, n node, user string) *memConn {
	t.Helper()
	m, err := n.f.Manager(wsmanager.UserContext{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	c := newMemConn()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Serve(context.Background(), c, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()
	t.Cleanup(func() {
		c.Close(1000, "")
		<-done
	})
	waitFor(t, "the connection to be ready", func() bool {
		for _, conn := range m.Connections() {
			if conn.Machine().State().IsOperational() {
				return true
			}
		}
		return false
	})
	return c
}

func TestSendToUserReachesEveryNodeExactlyOnceInOrder(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	nodes := []node{newNode(t, srv.ClientURL()), newNode(t, srv.ClientURL()), newNode(t, srv.ClientURL())}
	var alice []*memConn
	for _, n := range nodes {
		alice = append(alice, connect(t, n, "alice"))
	}
	bob := connect(t, nodes[1], "bob")
	user := "carol.*>" // a user ID that would be a wildcard if pasted into a subject
	carol := connect(t, nodes[2], user)

	const perNode = 50
	ctx := context.Background()
	for seq := range perNode + 1 {
		for i, n := range nodes {
			msg := fmt.Sprintf("n%d-%03d", i, seq)
			if seq == perNode {
				msg = fmt.Sprintf("n%d-end", i)
			}
			if local, err := n.f.SendToUser(ctx, "alice", []byte(msg)); err != nil || local != 1 {
				t.Fatalf("SendToUser from node %d = %d, %v", i, local, err)
			}
		}
	}
	if _, err := nodes[0].f.SendToUser(ctx, user, []byte("for carol")); err != nil {
		t.Fatal(err)
	}
	for ci, c := range alice {
		// The end markers come last from each publisher, so once all three
		// are in, everything each node published before them is too.
		waitFor(t, fmt.Sprintf("alice's connection %d to receive every end marker", ci), func() bool {
			got := strings.Join(c.messages(), " ")
			return strings.Contains(got, "n0-end") && strings.Contains(got, "n1-end") && strings.Contains(got, "n2-end")
		})
		next := map[string]int{}
		for _, m := range c.messages() {
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
		for _, pub := range []string{"n0", "n1", "n2"} {
			if next[pub] != perNode+1 {
				t.Errorf("connection %d got %d messages from %s, want %d", ci, next[pub], pub, perNode+1)
			}
		}
	}
	waitFor(t, "carol's message", func() bool { return len(carol.messages()) == 1 })
	// Carol's message went through NATS to node 2, which also holds one of
	// alice's connections: a delivery that reached the wrong user would
	// have been made by now.
	if got := bob.messages(); len(got) != 0 {
		t.Errorf("bob received messages for others: %v", got)
	}
	for ci, c := range alice {
		if got := len(c.messages()); got != 3*(perNode+1) {
			t.Errorf("alice's connection %d has %d messages, want %d: another user's message reached her", ci, got, 3*(perNode+1))
		}
	}
	if got := carol.messages(); got[0] != "for carol" {
		t.Errorf("carol got %v", got)
	}
	st := nodes[1].f.Stats()
	if st.BrokerErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestNATSOutageKeepsLocalDeliveryAndResumes(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	port := srv.Addr().(*net.TCPAddr).Port
	a, b := newNode(t, srv.ClientURL()), newNode(t, srv.ClientURL())
	localConn, remoteConn := connect(t, a, "alice"), connect(t, b, "alice")
	ctx := context.Background()

	srv.Shutdown()
	srv.WaitForShutdown()
	waitFor(t, "the brokers to notice the outage", func() bool { return !a.b.Connected() && !b.b.Connected() })

	local, err := a.f.SendToUser(ctx, "alice", []byte("during outage"))
	if local != 1 || !errors.Is(err, wsmanager.ErrBroker) || !errors.Is(err, natsbroker.ErrDisconnected) {
		t.Fatalf("SendToUser during the outage = %d, %v; want 1 local and ErrBroker/ErrDisconnected", local, err)
	}
	waitFor(t, "local delivery during the outage", func() bool { return len(localConn.messages()) == 1 })
	if st := a.f.Stats(); st.BrokerErrors != 1 {
		t.Errorf("BrokerErrors = %d, want 1", st.BrokerErrors)
	}

	startNATS(t, port)
	waitFor(t, "the brokers to reconnect", func() bool { return a.b.Connected() && b.b.Connected() })
	// The subscription is restored asynchronously after the reconnect: keep
	// sending until one message crosses, then check that later ones do.
	for i := 0; ; i++ {
		if _, err := a.f.SendToUser(ctx, "alice", []byte(fmt.Sprintf("probe-%d", i))); err != nil {
			t.Fatal(err)
		}
		crossed := false
		deadline := time.Now().Add(100 * time.Millisecond)
		for !crossed && time.Now().Before(deadline) {
			crossed = len(remoteConn.messages()) > 0
			time.Sleep(5 * time.Millisecond)
		}
		if crossed {
			break
		}
		if i == 100 {
			t.Fatal("cross-node delivery did not resume")
		}
	}
	before := len(remoteConn.messages())
	if _, err := a.f.SendToUser(ctx, "alice", []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after the restart", func() bool { return len(remoteConn.messages()) == before+1 })
	for _, m := range remoteConn.messages() {
		if m == "during outage" {
			t.Error("a message published during the outage reached another node: NATS core is at-most-once, and the broker must not buffer")
		}
	}
}

func TestConnectErrorsNeverQuoteTheURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"nats://user:s3cret@127.0.0.1:bad", "nats://user:s3cret@%zz", "nats://s3cret@127.0.0.1:bad"} {
		_, err := natsbroker.Connect(u, natsbroker.Options{Logger: quiet()})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Connect with a malformed URL = %v, want an error that does not quote it", err)
		}
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			t.Errorf("Connect error %v does not wrap the parse error", err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := natsbroker.New(nil, natsbroker.Options{}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v", err)
	}
	for _, p := range []string{"a.*", "a b", "a.", "a.>"} {
		if _, err := natsbroker.Connect("nats://127.0.0.1:1", natsbroker.Options{Prefix: p}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	srv := startNATS(t, -1)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natsbroker.New(nc, natsbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"", strings.Repeat("u", natsbroker.MaxUserIDLen+1), strings.Repeat("u", 4096)} {
		if err := b.Publish(context.Background(), user, []byte("x")); !errors.Is(err, natsbroker.ErrInvalidUser) {
			t.Errorf("user of %d bytes = %v", len(user), err)
		}
	}
	// A rejected ID must not have cost the connection (a subject over the
	// server's control-line limit makes it close the connection for good).
	if err := b.Publish(context.Background(), strings.Repeat("u", natsbroker.MaxUserIDLen), []byte("x")); err != nil || !nc.IsConnected() {
		t.Errorf("longest valid user ID: %v, connected %v", err, nc.IsConnected())
	}
	if st := b.Stats(); st.PublishErrors != 3 || st.Published != 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	// Messages under the prefix that no Broker published are counted and
	// dropped, never delivered.
	got := make(chan string, 1)
	unsub, err := b.Subscribe(func(userID string, _ []byte) { got <- userID })
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{natsbroker.DefaultPrefix + ".!!!", natsbroker.DefaultPrefix + ".YWxpY2U"} {
		if err := nc.Publish(subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if u := <-got; u != "alice" {
		t.Errorf("delivered to %q", u)
	}
	waitFor(t, "the malformed message to be counted", func() bool { return b.Stats().Malformed == 1 })
	if err := unsub(); err != nil {
		t.Error(err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), "u", []byte("x")); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("after Close = %v", err)
	}
	if !nc.IsConnected() {
		t.Error("Close closed a connection the broker does not own")
	}
}
