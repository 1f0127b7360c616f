package bench

import (
	"context"
	"encoding/binary"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// interestUsers is how many users BenchmarkInterestFanout spreads over its
// three nodes.
const interestUsers = 1000

// latencies collects end-to-end latencies: each message carries the time
// it was sent in its last 8 bytes.
type latencies struct {
	mu  sync.Mutex
	ns  []int64
	got atomic.Int64
}

func (l *latencies) note(msg []byte) {
	if len(msg) < 8 {
		return
	}
	d := time.Now().UnixNano() - int64(binary.BigEndian.Uint64(msg[len(msg)-8:]))
	l.mu.Lock()
	l.ns = append(l.ns, d)
	l.mu.Unlock()
	l.got.Add(1)
}

// quantile returns the q-quantile of what note collected.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ns) == 0 {
		return 0
	}
	slices.Sort(l.ns)
	return time.Duration(l.ns[int(q*float64(len(l.ns)-1))])
}

// stamped returns a message of the benchmark, sent now.
func stamped() []byte {
	msg := make([]byte, 0, 64)
	msg = append(msg, "interest fan-out benchmark message "...)
	return binary.BigEndian.AppendUint64(msg, uint64(time.Now().UnixNano()))
}

// stampedConn is an in-memory wsmanager.Conn that notes the latency of
// each message written to it; reset frames, which carry no time, are not
// noted.
type stampedConn struct {
	lat    *latencies
	closed chan struct{}
	once   sync.Once
}

func (c *stampedConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *stampedConn) Write(_ context.Context, msg []byte) error {
	if len(msg) >= 43 && string(msg[len(msg)-43:len(msg)-8]) == "interest fan-out benchmark message " {
		c.lat.note(msg)
	}
	return nil
}

func (c *stampedConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// interestCluster is three nodes over one in-process nats-server, users
// round-robin over them.
type interestCluster struct {
	nodes []*wsmanager.Factory
	lat   latencies
	stop  func()
}

// newInterestCluster starts a nats-server with opts and three nodes over
// the brokers connect makes, with history.
func newInterestCluster(tb testing.TB, opts server.Options, history wsmanager.HistoryOptions, connect func(url string) (natsNode, error)) *interestCluster {
	tb.Helper()
	ns := startBenchServer(tb, opts)
	c := &interestCluster{}
	var brokers []natsNode
	var conns []*stampedConn
	var serving sync.WaitGroup
	for range 3 {
		b, err := connect(ns.ClientURL())
		if err != nil {
			tb.Fatal(err)
		}
		brokers = append(brokers, b)
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quietLogger(), QueueSize: 1 << 16, History: history})
		if err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, f)
	}
	for i := range interestUsers {
		r, err := c.nodes[i%3].Reserve(context.Background(), wsmanager.UserContext{UserID: "user-" + strconv.Itoa(i)})
		if err != nil {
			tb.Fatal(err)
		}
		conn := &stampedConn{lat: &c.lat, closed: make(chan struct{})}
		conns = append(conns, conn)
		serving.Go(func() {
			_ = r.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
		})
	}
	c.stop = func() {
		for _, conn := range conns {
			_ = conn.Close(1000, "")
		}
		serving.Wait()
		for _, f := range c.nodes {
			_ = f.Close(context.Background())
		}
		for _, b := range brokers {
			_ = b.Close(context.Background())
		}
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	return c
}

func startBenchServer(tb testing.TB, opts server.Options) *server.Server {
	tb.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	ns, err := server.NewServer(&opts)
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server did not start")
	}
	return ns
}

// interestResult is what one case of BenchmarkInterestFanout measured.
type interestResult struct {
	perSec   float64
	p50, p99 time.Duration
}

// pace waits, for the i-th message from start at rate messages per second
// (0: as fast as possible), until its time has come.
func pace(start time.Time, i, rate int) {
	if rate > 0 {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
	}
}

// runInterestCluster sends from the three nodes in turn to the users, at
// rate messages per second (0: as fast as possible), and waits until every
// message is delivered.
func runInterestCluster(b *testing.B, c *interestCluster, rate int) interestResult {
	defer c.stop()
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	sent := 0
	for i := 0; b.Loop(); i++ {
		pace(start, i, rate)
		if _, err := c.nodes[i%3].SendToUser(ctx, "user-"+strconv.Itoa(i%interestUsers), stamped()); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	deadline := time.Now().Add(60 * time.Second)
	for c.lat.got.Load() < int64(sent) {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", c.lat.got.Load(), sent)
		}
		time.Sleep(time.Millisecond)
	}
	return interestResult{float64(sent) / time.Since(start).Seconds(), c.lat.quantile(0.5), c.lat.quantile(0.99)}
}

// runRawJetStream publishes the same messages, asynchronously, straight
// to a stream of the Log's shape, and waits for every acknowledgement:
// what JetStream stores per second, with nothing delivered, the ceiling of
// a Log. Latency is from publish to acknowledgement. rate is as for
// runInterestCluster.
func runRawJetStream(b *testing.B, rate int) interestResult {
	ns := startBenchServer(b, server.Options{JetStream: true, StoreDir: b.TempDir()})
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	var lat latencies
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(natsbroker.DefaultAppendsInFlight),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) { lat.note(m.Data) }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "bench_raw", Subjects: []string{"bench.raw.log.*"},
		MaxMsgsPerSubject: natsbroker.DefaultMessagesPerUser, MaxBytes: natsbroker.DefaultLogBytes}); err != nil {
		b.Fatal(err)
	}
	subjects := make([]string, interestUsers)
	for i := range subjects {
		subjects[i] = "bench.raw.log.user-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	start := time.Now()
	sent := 0
	for i := 0; b.Loop(); i++ {
		pace(start, i, rate)
		if _, err := js.PublishMsgAsync(&nats.Msg{Subject: subjects[i%interestUsers], Data: stamped()}); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		b.Fatalf("acknowledged %d of %d", lat.got.Load(), sent)
	}
	return interestResult{float64(sent) / time.Since(start).Seconds(), lat.quantile(0.5), lat.quantile(0.99)}
}

// BenchmarkInterestFanout compares, in one run, three nodes over NATS
// core (natsbroker.Broker, routed by interest), three nodes over a
// JetStream Log (appends pipelined, live deliveries routed by interest
// from the stream's RePublish), and raw asynchronous JetStream publishing
// of the same messages, which stores them and delivers nothing: the
// ceiling of the Log. Each case reports messages per second and the p50
// and p99 end-to-end latency (SendToUser to the connection's Write; for
// the raw case, publish to acknowledgement), sending as fast as it can
// ("saturated": the latencies are then mostly time spent queued) and at
// 5,000 messages per second ("paced"). With -v, the saturated case logs
// the Log's ratios to the other two.
func BenchmarkInterestFanout(b *testing.B) {
	report := func(b *testing.B, r interestResult) {
		b.ReportMetric(r.perSec, "msgs/s")
		b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
	}
	for _, load := range []struct {
		name string
		rate int
	}{{"saturated", 0}, {"paced", 5000}} {
		b.Run(load.name, func(b *testing.B) {
			var core, log, raw interestResult
			b.Run("nats-core", func(b *testing.B) {
				core = runInterestCluster(b, newInterestCluster(b, server.Options{}, wsmanager.HistoryOptions{}, func(url string) (natsNode, error) {
					return natsbroker.Connect(url, natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
				}), load.rate)
				report(b, core)
			})
			b.Run("jetstream-log", func(b *testing.B) {
				log = runInterestCluster(b, newInterestCluster(b, server.Options{JetStream: true, StoreDir: b.TempDir()}, wsmanager.HistoryOptions{Messages: 1}, func(url string) (natsNode, error) {
					return natsbroker.ConnectLog(url, natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()}})
				}), load.rate)
				report(b, log)
			})
			b.Run("jetstream-raw", func(b *testing.B) {
				raw = runRawJetStream(b, load.rate)
				report(b, raw)
			})
			if load.rate == 0 && raw.perSec > 0 && core.perSec > 0 {
				b.Logf("the Log delivers %.2fx what raw JetStream stores and %.2fx what NATS core delivers per second", log.perSec/raw.perSec, log.perSec/core.perSec)
			}
		})
	}
}

// TestInterestFanoutDeliversEveryMessageOnce checks the workload of
// BenchmarkInterestFanout's clusters: each message reaches its user's
// connection exactly once, and is noted.
func TestInterestFanoutDeliversEveryMessageOnce(t *testing.T) {
	for name, c := range map[string]func() *interestCluster{
		"nats-core": func() *interestCluster {
			return newInterestCluster(t, server.Options{}, wsmanager.HistoryOptions{}, func(url string) (natsNode, error) {
				return natsbroker.Connect(url, natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
			})
		},
		"jetstream-log": func() *interestCluster {
			return newInterestCluster(t, server.Options{JetStream: true, StoreDir: t.TempDir()}, wsmanager.HistoryOptions{Messages: 1}, func(url string) (natsNode, error) {
				return natsbroker.ConnectLog(url, natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()}})
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := c()
			defer c.stop()
			const sent = 3 * interestUsers
			for i := range sent {
				if _, err := c.nodes[i%3].SendToUser(context.Background(), "user-"+strconv.Itoa(i%interestUsers), stamped()); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for c.lat.got.Load() < sent && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // a duplicate would land by now
			if got := c.lat.got.Load(); got != sent {
				t.Fatalf("noted %d deliveries, want exactly %d", got, sent)
			}
		})
	}
}
