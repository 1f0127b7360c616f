package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/bench/internal/clusterresult"
	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// The routing workload: each node holds routingUsersPerNode users, one
// connection each, and the sender sends routingMessagesPerUser messages to
// every user, so each node needs routingUsersPerNode ×
// routingMessagesPerUser of them. Through JetStream, the server's count
// for a node also holds the replies to its API requests: one when the Log
// connects, and two for each user it adds (the user's last message, read
// so that a gap shows, and the stream's head for the connection's reset
// frame), 21 for ten users, so a user's messages are many enough here for
// that cost of a session to stay small beside them.
const (
	routingUsersPerNode    = 10
	routingMessagesPerUser = 50
)

// resultsEnv names the file the cluster tests append their figures to, for
// cmd/benchreport; unset, they record nothing.
const resultsEnv = "CLUSTER_RESULTS"

// recordResult appends l to the file resultsEnv names, if it names one.
func recordResult(t *testing.T, l clusterresult.Line) {
	t.Helper()
	if path := os.Getenv(resultsEnv); path != "" {
		if err := clusterresult.Append(path, l); err != nil {
			t.Fatal(err)
		}
	}
}

// allUsersBroker hides every method of a broker adapter but Publish and
// Subscribe: a Factory over it cannot route by interest and subscribes to
// every user, as it did before wsmanager.Router.
type allUsersBroker struct{ wsmanager.Broker }

// allUsersLog is allUsersBroker for a Log: the Factory reads the whole
// stream through SubscribeLog instead of its users' messages through
// wsmanager.LogRouter.
type allUsersLog struct{ wsmanager.Log }

// routingCounter counts what one node's connections were written, and
// closes reached once they have all the messages the node needs.
type routingCounter struct {
	n       atomic.Int64
	want    int64
	reached chan struct{}
}

func (c *routingCounter) add() {
	if c.n.Add(1) == c.want {
		close(c.reached)
	}
}

// routingConn is an in-memory wsmanager.Conn that counts the positioned
// or plain messages written to it; with history, the reset frame each
// connection starts with is not counted.
type routingConn struct {
	count   *routingCounter
	history bool
	closed  chan struct{}
	once    sync.Once
}

func (c *routingConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *routingConn) Write(_ context.Context, msg []byte) error {
	if c.history && !isPositioned(msg) {
		return nil
	}
	c.count.add()
	return nil
}

func (c *routingConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// isPositioned reports whether msg, framed by wsmanager.PrefixFrame, is a
// message and not a reset frame (a position alone, with no space).
func isPositioned(msg []byte) bool {
	for _, b := range msg {
		if b == ' ' {
			return true
		}
	}
	return false
}

// routingBroker is what a node of the routing test needs of an adapter.
type routingBroker interface {
	wsmanager.Broker
	Close(context.Context) error
}

// routingBackend is one broker of the routing test: it connects nodes to
// one server and reads what the server sent each of them.
type routingBackend struct {
	name    string
	history bool
	// connect returns node's broker (the sender's for node -1) and a
	// function reading how many messages it was handed.
	connect func(t *testing.T, node int) (routingBroker, func() int64)
	// received returns, when the server counts them, the messages it sent
	// each node's connection, and what it is called; nil otherwise.
	received func(t *testing.T) (map[string]int64, string)
	// serverOut, when not nil, returns the bytes the server reports it
	// has sent all its clients so far.
	serverOut func(t *testing.T) int64
	// hide returns b as a plain Broker or Log: "before".
	hide func(b routingBroker) wsmanager.Broker
}

func routingNodeName(node int) string { return "routing-node-" + strconv.Itoa(node) }

// natsRoutingBackend is NATS core (natsbroker.Broker) or, with jetstream,
// a JetStream Log, over a real in-process nats-server on 127.0.0.1, which
// counts the messages it sends each connection (Connz OutMsgs).
func natsRoutingBackend(t *testing.T, jetstream bool) routingBackend {
	opts := server.Options{}
	if jetstream {
		opts = server.Options{JetStream: true, StoreDir: t.TempDir()}
	}
	ns := clusterNATSServer(t, opts)
	be := routingBackend{
		name: "nats",
		received: func(t *testing.T) (map[string]int64, string) {
			cz, err := ns.Connz(&server.ConnzOptions{Limit: 4096})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, c := range cz.Conns {
				out[c.Name] = c.OutMsgs
			}
			return out, "nats-server Connz OutMsgs"
		},
		hide: func(b routingBroker) wsmanager.Broker { return allUsersBroker{b} },
	}
	be.connect = func(t *testing.T, node int) (routingBroker, func() int64) {
		name := nats.Name(routingNodeName(node))
		opts := natsbroker.Options{Prefix: "bench.routing", Logger: quietLogger()}
		if !jetstream {
			b, err := natsbroker.Connect(ns.ClientURL(), opts, name)
			if err != nil {
				t.Fatal(err)
			}
			return b, func() int64 { return int64(b.Stats().Delivered) }
		}
		l, err := natsbroker.ConnectLog(ns.ClientURL(), natsbroker.LogOptions{Options: opts}, name)
		if err != nil {
			t.Fatal(err)
		}
		return l, func() int64 { return int64(l.Stats().Delivered) }
	}
	if jetstream {
		be.name, be.history = "jetstream", true
		be.hide = func(b routingBroker) wsmanager.Broker { return allUsersLog{b.(wsmanager.Log)} }
	}
	return be
}

// redisRoutingBackend is redisbroker.Broker over a real redis-server on
// 127.0.0.1. Redis 7.0 counts no messages per client, so what a node
// received is its adapter's Stats.Delivered.
func redisRoutingBackend(t *testing.T) routingBackend {
	srv := redistest.Start(t)
	return routingBackend{
		name:      "redis",
		serverOut: func(t *testing.T) int64 { return redisNetOutput(t, srv.Addr()) },
		connect: func(t *testing.T, _ int) (routingBroker, func() int64) {
			b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "bench.routing", Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			return b, func() int64 { return int64(b.Stats().Delivered) }
		},
		hide: func(b routingBroker) wsmanager.Broker { return allUsersBroker{b} },
	}
}

// redisStreamsRoutingBackend is redisbroker's Log (Redis Streams) over a
// real redis-server on 127.0.0.1; what a node received is its adapter's
// Stats.Delivered.
func redisStreamsRoutingBackend(t *testing.T) routingBackend {
	srv := redistest.Start(t)
	return routingBackend{
		name:      "redis-streams",
		history:   true,
		serverOut: func(t *testing.T) int64 { return redisNetOutput(t, srv.Addr()) },
		connect: func(t *testing.T, _ int) (routingBroker, func() int64) {
			b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "bench.routing", Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			l, err := redisbroker.NewLog(b, redisbroker.LogOptions{})
			if err != nil {
				_ = b.Close(context.Background())
				t.Fatal(err)
			}
			return l, func() int64 { return int64(l.Stats().Delivered) }
		},
		hide: func(b routingBroker) wsmanager.Broker { return allUsersLog{b.(wsmanager.Log)} },
	}
}

// clusterNATSServer starts a nats-server on 127.0.0.1 with opts, shut
// down when the test ends.
func clusterNATSServer(tb testing.TB, opts server.Options) *server.Server {
	tb.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	ns, err := server.NewServer(&opts)
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	tb.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server did not start")
	}
	return ns
}

// runRouting builds nodes Factories over be, each holding its own users,
// sends the workload from a sender Factory of its own, and returns each
// node's row once every node has every message it needs, with what the
// server reports it sent over the sends when it counts no messages per
// client.
func runRouting(t *testing.T, be routingBackend, nodes int, routed bool) ([]clusterresult.Routing, *clusterresult.RoutingServer) {
	t.Helper()
	var history wsmanager.HistoryOptions
	if be.history {
		history.Messages = 1
	}
	newFactory := func(b wsmanager.Broker) *wsmanager.Factory {
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, History: history, Logger: quietLogger(), QueueSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close(context.Background()) })
		return f
	}
	closeBroker := func(b routingBroker) {
		// Registered before the Factory over it, so closed after it.
		t.Cleanup(func() { _ = b.Close(context.Background()) })
	}

	senderBroker, _ := be.connect(t, -1)
	closeBroker(senderBroker)
	sender := newFactory(senderBroker)

	needed := int64(routingUsersPerNode * routingMessagesPerUser)
	counters := make([]*routingCounter, nodes)
	delivered := make([]func() int64, nodes)
	factories := make([]*wsmanager.Factory, nodes)
	for i := range nodes {
		b, d := be.connect(t, i)
		closeBroker(b)
		delivered[i] = d
		var fb wsmanager.Broker = b
		if !routed {
			fb = be.hide(b)
		}
		factories[i] = newFactory(fb)
		counters[i] = &routingCounter{want: needed, reached: make(chan struct{})}
	}

	var serving sync.WaitGroup
	t.Cleanup(serving.Wait) // after the connections close, before the Factories do
	users := nodes * routingUsersPerNode
	for u := range users {
		node := u % nodes
		// Reserve returns once the node's broker delivers the user's
		// messages, so the sends below cannot miss it.
		r, err := factories[node].Reserve(context.Background(), wsmanager.UserContext{UserID: "user-" + strconv.Itoa(u)})
		if err != nil {
			t.Fatal(err)
		}
		conn := &routingConn{count: counters[node], history: be.history, closed: make(chan struct{})}
		t.Cleanup(func() { _ = conn.Close(1000, "") })
		serving.Go(func() {
			_ = r.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
		})
	}

	// Every user in turn, so the last message to each node comes after
	// every other message the sender sent: one publisher's messages reach
	// a node in order, so when a node has its last one, the server has
	// sent it every message it was going to.
	var outBefore int64
	if be.serverOut != nil {
		outBefore = be.serverOut(t)
	}
	ctx := context.Background()
	msg := []byte("routing table message")
	for i := range users * routingMessagesPerUser {
		if _, err := sender.SendToUserWait(ctx, "user-"+strconv.Itoa(i%users), msg); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for i, c := range counters {
		select {
		case <-c.reached:
		case <-timeout.C:
			t.Fatalf("%s, %d nodes, routed %v: node %d was written %d of the %d messages it needs", be.name, nodes, routed, i, c.n.Load(), needed)
		}
	}

	var server map[string]int64
	source := "adapter Stats.Delivered"
	if be.received != nil {
		server, source = be.received(t)
	}
	rows := make([]clusterresult.Routing, nodes)
	for i := range nodes {
		row := clusterresult.Routing{Broker: be.name, Nodes: nodes, Routed: routed, Node: i, Needed: needed, Delivered: delivered[i](), Source: source}
		row.Received = row.Delivered
		if server != nil {
			got, ok := server[routingNodeName(i)]
			if !ok {
				t.Fatalf("the server has no connection named %s", routingNodeName(i))
			}
			row.Received = got
		}
		if got := counters[i].n.Load(); got != needed {
			t.Errorf("%s, %d nodes, routed %v: node %d was written %d messages, want exactly %d", be.name, nodes, routed, i, got, needed)
		}
		rows[i] = row
	}
	var total *clusterresult.RoutingServer
	if be.serverOut != nil {
		total = &clusterresult.RoutingServer{Broker: be.name, Nodes: nodes, Routed: routed, OutBytes: be.serverOut(t) - outBefore, Source: "redis-server INFO total_net_output_bytes"}
	}
	return rows, total
}

// TestClusterRouting measures, for 3 and 10 nodes over NATS core, a
// JetStream Log, Redis publish/subscribe and a Redis Streams Log, what each node receives from the broker
// against what it needs (the messages addressed to the users it holds),
// with the adapter hidden behind a plain Broker or Log (every node
// subscribes to every user: each receives N times what it needs) and as
// it is (a Router or LogRouter: each receives what it needs). With
// CLUSTER_RESULTS set, it records every row for BENCHMARKS.md.
func TestClusterRouting(t *testing.T) {
	backends := []struct {
		name string
		make func(*testing.T) routingBackend
	}{
		{"nats", func(t *testing.T) routingBackend { return natsRoutingBackend(t, false) }},
		{"jetstream", func(t *testing.T) routingBackend { return natsRoutingBackend(t, true) }},
		{"redis", redisRoutingBackend},
		{"redis-streams", redisStreamsRoutingBackend},
	}
	for _, b := range backends {
		for _, nodes := range []int{3, 10} {
			for _, routed := range []bool{false, true} {
				mode := map[bool]string{false: "before", true: "after"}[routed]
				t.Run(fmt.Sprintf("%s/nodes=%d/%s", b.name, nodes, mode), func(t *testing.T) {
					rows, total := runRouting(t, b.make(t), nodes, routed)
					if total != nil {
						recordResult(t, clusterresult.Line{RoutingServer: total})
					}
					for _, r := range rows {
						ratio := r.Ratio()
						switch {
						case routed && ratio > 1.1:
							t.Errorf("node %d received %d messages for the %d it needs (%.2f×), want at most 1.1×", r.Node, r.Received, r.Needed, ratio)
						case !routed && (ratio < 0.95*float64(nodes) || ratio > 1.05*float64(nodes)):
							t.Errorf("node %d received %d messages for the %d it needs (%.2f×), want about %d×", r.Node, r.Received, r.Needed, ratio, nodes)
						}
						recordResult(t, clusterresult.Line{Routing: &r})
					}
				})
			}
		}
	}
}
