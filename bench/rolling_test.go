package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/bench/internal/clusterresult"
	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// The rolling deploy's size: ROLLING_CLIENTS clients (default 150, the
// short form plain go test runs; bench/run runs 1000) and a drain of
// ROLLING_DRAIN (default 4s) per node. The short form has clients enough
// that a survivor's count in a window is not mostly noise.
const (
	rollingClientsEnv = "ROLLING_CLIENTS"
	rollingDrainEnv   = "ROLLING_DRAIN"
	rollingNodes      = 3
	rollingPrefix     = "bench.rolling"
	// rollingAcceptTolerance bounds a surviving node's accepts in any
	// 1-second window, as a multiple of the drain's pace (the connections
	// the draining node held over the drain duration, per second). A
	// survivor expects about half the pace, the other survivor taking the
	// rest, and up to the whole pace when Drain finishes early: it closes
	// ceil(connections/batches) a batch, so a node with a few more
	// connections than Duration/Interval batches closes two a batch and
	// is done in about half the Duration. The tolerance leaves room for
	// the drain's jittered batches (a pause is half to one and a half its
	// interval) and for the clients' own random backoff. A node that closed every connection at once
	// would put about half of them on each survivor within one window:
	// drain/2 s times the pace, 2× with the short form's drain and 2.5×
	// with bench/run's, both over the tolerance.
	rollingAcceptTolerance = 1.5
)

// rollingDrainInterval is the DrainOptions.Interval the nodes get: the
// default, or longer when a node would otherwise have fewer connections
// than batches. Drain closes at least one connection a batch, so a node
// with fewer would finish early, faster than its pace; the first node to
// go holds about clients/nodes.
func rollingDrainInterval(drain time.Duration, clients int) time.Duration {
	return max(wsmanager.DefaultDrainInterval, drain*rollingNodes/time.Duration(clients))
}

// rollingLog is a Log under test: the flags that make clusternode use it,
// and a connection to it for the sender.
type rollingLog struct {
	name     string
	nodeArgs []string
	connect  func(t *testing.T) routingBroker
}

// jetStreamRollingLog is natsbroker's Log over an in-process nats-server
// with JetStream, storing in a temporary directory.
func jetStreamRollingLog(t *testing.T) rollingLog {
	ns := clusterNATSServer(t, server.Options{JetStream: true, StoreDir: t.TempDir()})
	return rollingLog{
		name:     "jetstream",
		nodeArgs: []string{"-broker", "nats", "-url", ns.ClientURL()},
		connect: func(t *testing.T) routingBroker {
			l, err := natsbroker.ConnectLog(ns.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: rollingPrefix, Logger: quietLogger()}})
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
	}
}

// redisStreamsRollingLog is redisbroker's Log over a real redis-server on
// 127.0.0.1.
func redisStreamsRollingLog(t *testing.T) rollingLog {
	srv := redistest.Start(t)
	return rollingLog{
		name:     "redis-streams",
		nodeArgs: []string{"-broker", "redis", "-url", srv.URL("")},
		connect: func(t *testing.T) routingBroker {
			b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: rollingPrefix, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			l, err := redisbroker.NewLog(b, redisbroker.LogOptions{})
			if err != nil {
				_ = b.Close(context.Background())
				t.Fatal(err)
			}
			return l
		},
	}
}

// rollingSender sends, from a Factory with no connections, at a fixed
// rate, one message to every user in turn.
type rollingSender struct {
	f     *wsmanager.Factory
	users []string
	rate  int // messages a second

	sent []int64 // per user; read once run has returned
	err  error
}

// run sends until stop is closed.
func (s *rollingSender) run(stop <-chan struct{}) {
	const tick = 10 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	var total int
	var msg []byte
	for {
		select {
		case <-stop:
			return
		case now := <-ticker.C:
			due := int(now.Sub(start).Seconds() * float64(s.rate))
			for ; total < due; total++ {
				u := total % len(s.users)
				n := s.sent[u] + 1
				msg = strconv.AppendInt(msg[:0], n, 10)
				msg = append(msg, ' ')
				msg = strconv.AppendInt(msg, time.Now().UnixNano(), 10)
				// SendToUser shares msg with the Log: each message is its own.
				if _, err := s.f.SendToUser(context.Background(), s.users[u], append([]byte(nil), msg...)); err != nil {
					s.err = err
					return
				}
				s.sent[u] = n
			}
		}
	}
}

// rollingPhase is one node's restart.
type rollingPhase struct {
	node       int
	held       int // connections the node held at its SIGTERM
	start, end time.Time
}

// maxInWindow returns the most instants of ts, sorted, within any window
// of length w inside [from, to).
func maxInWindow(ts []time.Time, from, to time.Time, w time.Duration) int {
	var in []time.Time
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			in = append(in, t)
		}
	}
	best := 0
	for i, j := 0, 0; j < len(in); j++ {
		for in[j].Sub(in[i]) >= w {
			i++
		}
		best = max(best, j-i+1)
	}
	return best
}

// TestRollingDeploy restarts every node of a three-node cluster in turn
// (SIGTERM: clusternode drains, then exits; the driver waits for the exit,
// starts it again and waits until it listens) while a sender sends every
// user messages at a steady rate through the Log, and real WebSocket
// clients, one per user, reconnect and resume on the other nodes. Every
// client must get every message of its user exactly once and in order,
// with a reset only on its first connection, and no surviving node may
// accept connections faster than the drain's pace allows (see
// rollingAcceptTolerance). ROLLING_CLIENTS and ROLLING_DRAIN set its size;
// with CLUSTER_RESULTS set, it records its figures for BENCHMARKS.md.
func TestRollingDeploy(t *testing.T) {
	clients, drain := 150, 4*time.Second
	if v := os.Getenv(rollingClientsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < rollingNodes {
			t.Fatalf("%s=%q: want a number of clients, at least %d", rollingClientsEnv, v, rollingNodes)
		}
		clients = n
	}
	if v := os.Getenv(rollingDrainEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration", rollingDrainEnv, v)
		}
		drain = d
	}
	bin := buildClusterNode(t)
	logs := []struct {
		name string
		make func(*testing.T) rollingLog
	}{
		{"jetstream", jetStreamRollingLog},
		{"redis-streams", redisStreamsRollingLog},
	}
	// The short form runs the Logs at once, as its drains mostly wait; a
	// longer run takes them in turn, so that each one's latency is its own.
	parallel := clients <= 200
	for _, l := range logs {
		t.Run(l.name, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			r := runRollingDeploy(t, bin, l.make(t), clients, drain)
			recordResult(t, clusterresult.Line{Rolling: &r})
			t.Logf("%d clients, %d messages: %d received, %d duplicates, %d lost, %d resets on reconnect, %d reconnects; accepts %.2f× the pace at most (%.0f/s for %.1f/s); latency p50 %.1f ms, p99 %.1f ms; %.1f s",
				r.Clients, r.Messages, r.Received, r.Duplicates, r.Lost, r.UnexpectedResets, r.Reconnects, r.MaxAcceptRatio, r.MaxAcceptPerSec, r.PacePerSec, r.P50Millis, r.P99Millis, r.Seconds)
			switch {
			case r.Error != "":
				t.Error(r.Error)
			case r.Duplicates != 0 || r.Lost != 0 || r.UnexpectedResets != 0 || r.Received != r.Messages:
				t.Errorf("the clients handled %d of %d messages, with %d duplicates, %d lost and %d resets on a reconnection; want every one exactly once", r.Received, r.Messages, r.Duplicates, r.Lost, r.UnexpectedResets)
			}
			if r.MaxAcceptRatio > rollingAcceptTolerance {
				t.Errorf("a surviving node accepted %.0f connections in one second, %.2f× the drain's pace of %.1f a second, want at most %.1f×", r.MaxAcceptPerSec, r.MaxAcceptRatio, r.PacePerSec, rollingAcceptTolerance)
			}
		})
	}
}

// runRollingDeploy runs one rolling deploy over log and returns what it
// measured; a failure to reach the end is in the result's Error.
func runRollingDeploy(t *testing.T, bin string, log rollingLog, clients int, drain time.Duration) clusterresult.Rolling {
	res := clusterresult.Rolling{Log: log.name, Nodes: rollingNodes, Clients: clients, DrainSeconds: drain.Seconds(), RatePerSecond: float64(max(clients, 100))}
	args := append([]string{"-drain", drain.String(), "-drain-interval", rollingDrainInterval(drain, clients).String(), "-prefix", rollingPrefix}, log.nodeArgs...)
	nodes := make([]*nodeProcess, rollingNodes)
	addrs := make([]string, rollingNodes)
	for i := range nodes {
		nodes[i] = startNode(t, bin, "node "+strconv.Itoa(i), args...)
		addrs[i] = nodes[i].addr
	}
	cl := newRollingCluster(addrs)

	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	hc := &http.Client{Transport: transport}
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	stopClients := func() {
		cancel()
		running.Wait()
	}
	t.Cleanup(stopClients) // before the nodes are killed
	cs := make([]*rollingClient, clients)
	users := make([]string, clients)
	for i := range cs {
		users[i] = "user-" + strconv.Itoa(i)
		cs[i] = newRollingClient(users[i], i%rollingNodes)
		running.Go(func() { cs[i].run(ctx, cl, hc) })
	}
	if err := waitAll(cs, func(c *rollingClient) chan struct{} { return c.ready }, time.Minute); err != "" {
		res.Error = "first connections: " + err
		return res
	}

	senderLog := log.connect(t)
	t.Cleanup(func() { _ = senderLog.Close(context.Background()) })
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: senderLog, History: wsmanager.HistoryOptions{Messages: 1}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	sender := &rollingSender{f: f, users: users, rate: int(res.RatePerSecond), sent: make([]int64, clients)}
	stopSending := make(chan struct{})
	var sending sync.WaitGroup
	sending.Go(func() { sender.run(stopSending) })
	stopSender := sync.OnceFunc(func() {
		close(stopSending)
		sending.Wait()
	})
	t.Cleanup(stopSender)
	start := time.Now()

	// Every client has a position from a message before the first node
	// goes: a reconnection then resumes from it.
	if err := waitAll(cs, func(c *rollingClient) chan struct{} { return c.handled1 }, time.Minute); err != "" {
		res.Error = "first messages: " + err
		return res
	}
	var phases []rollingPhase
	for i, n := range nodes {
		p := rollingPhase{node: i, held: cl.holding(i), start: time.Now()}
		cl.setLive(i, "", false)
		n.stop(drain + 30*time.Second)
		p.end = time.Now()
		n.start()
		cl.setLive(i, n.addr, true)
		phases = append(phases, p)
	}
	// A last second of messages, with every node back.
	sleepCtx(context.Background(), time.Second)
	stopSender()
	if sender.err != nil {
		t.Fatalf("SendToUser: %v", sender.err)
	}
	if s := f.Stats(); s.BrokerErrors != 0 {
		t.Fatalf("%d appends to the Log failed", s.BrokerErrors)
	}
	for i, c := range cs {
		res.Messages += sender.sent[i]
		c.expect(sender.sent[i])
	}
	if err := waitAll(cs, func(c *rollingClient) chan struct{} { return c.done }, time.Minute); err != "" {
		res.Error = "last messages: " + err
	}
	res.Seconds = time.Since(start).Seconds()
	stopClients()
	for _, n := range nodes {
		n.stop(30 * time.Second)
	}

	var lat []time.Duration
	for _, c := range cs {
		res.Received += c.next - 1 - c.lost
		res.Duplicates += c.duplicates
		res.Lost += c.lost
		res.UnexpectedResets += c.resets
		res.Reconnects += int64(c.connects - 1)
		if c.malformed > 0 && res.Error == "" {
			res.Error = fmt.Sprintf("%s got %d malformed frames", c.user, c.malformed)
		}
		lat = append(lat, c.latencies...)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		res.P50Millis, res.P99Millis = q(0.50), q(0.99)
	}
	for k, p := range phases {
		if p.held == 0 {
			continue
		}
		to := time.Now()
		if k+1 < len(phases) {
			to = phases[k+1].start
		}
		pace := float64(p.held) / drain.Seconds()
		for s := range nodes {
			if s == p.node {
				continue
			}
			got := maxInWindow(cl.acceptsOf(s), p.start, to, time.Second)
			if r := float64(got) / pace; r > res.MaxAcceptRatio {
				res.MaxAcceptRatio, res.MaxAcceptPerSec, res.PacePerSec = r, float64(got), pace
			}
		}
	}
	return res
}

// waitAll waits until ch(c) is closed for every client, or limit passes;
// it returns "" or what was missing.
func waitAll(cs []*rollingClient, ch func(*rollingClient) chan struct{}, limit time.Duration) string {
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for i, c := range cs {
		select {
		case <-ch(c):
		case <-timeout.C:
			missing := 0
			for _, c := range cs[i:] {
				select {
				case <-ch(c):
				default:
					missing++
				}
			}
			return fmt.Sprintf("%d of %d clients not there after %v", missing, len(cs), limit)
		}
	}
	return ""
}
