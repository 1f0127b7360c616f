package bench

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// latencyConn is an in-memory wsmanager.Conn that records, for every
// benchmark message written to it, how long ago it was sent: the message
// ends with its send time in nanoseconds since the workload's start.
type latencyConn struct {
	start  time.Time
	got    *atomic.Int64
	each   chan<- struct{} // told of every message, if it has room
	mu     sync.Mutex
	lat    []time.Duration
	closed chan struct{}
	once   sync.Once
}

func (c *latencyConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, context.Canceled
	}
}

func (c *latencyConn) Write(_ context.Context, msg []byte) error {
	i := bytes.LastIndexByte(msg, '@')
	if i < 0 {
		return nil // a reset frame, not a message of the workload
	}
	sent, err := strconv.ParseInt(string(msg[i+1:]), 10, 64)
	if err != nil {
		return nil
	}
	d := time.Since(c.start) - time.Duration(sent)
	c.mu.Lock()
	c.lat = append(c.lat, d)
	c.mu.Unlock()
	c.got.Add(1)
	select {
	case c.each <- struct{}{}:
	default:
	}
	return nil
}

func (c *latencyConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// latencyCluster is three wsmanager nodes over three brokers, with users
// connected round-robin through latencyConns.
type latencyCluster struct {
	nodes []*wsmanager.Factory
	conns []*latencyConn
	got   atomic.Int64
	each  chan struct{} // a message was written to a connection
	start time.Time
	stop  func()
}

func newLatencyCluster(tb testing.TB, users int, brokers []wsmanager.Broker, history wsmanager.HistoryOptions, closeBrokers func()) *latencyCluster {
	tb.Helper()
	c := &latencyCluster{start: time.Now(), each: make(chan struct{}, 1)}
	var serving sync.WaitGroup
	for _, b := range brokers {
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quietLogger(), QueueSize: 4096, History: history})
		if err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, f)
	}
	for i := range users {
		r, err := c.nodes[i%3].Reserve(context.Background(), wsmanager.UserContext{UserID: "user-" + strconv.Itoa(i)})
		if err != nil {
			tb.Fatal(err)
		}
		conn := &latencyConn{start: c.start, got: &c.got, each: c.each, closed: make(chan struct{})}
		c.conns = append(c.conns, conn)
		serving.Go(func() {
			_ = r.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
		})
	}
	c.stop = func() {
		for _, conn := range c.conns {
			conn.Close(1000, "")
		}
		serving.Wait()
		for _, f := range c.nodes {
			_ = f.Close(context.Background())
		}
		closeBrokers()
	}
	return c
}

// latencies returns every latency recorded, sorted.
func (c *latencyCluster) latencies() []time.Duration {
	var all []time.Duration
	for _, conn := range c.conns {
		conn.mu.Lock()
		all = append(all, conn.lat...)
		conn.lat = conn.lat[:0]
		conn.mu.Unlock()
	}
	slices.Sort(all)
	return all
}

// newRedisInterestCluster joins three nodes over one redis-server by
// redisbroker: by publish/subscribe (a Router), or, with log, by the Redis
// Streams Log (a LogRouter and AsyncLog) with history on.
func newRedisInterestCluster(tb testing.TB, users int, log bool) *latencyCluster {
	tb.Helper()
	srv := redistest.Start(tb)
	var brokers []wsmanager.Broker
	var closers []func(context.Context) error
	history := wsmanager.HistoryOptions{}
	if log {
		history.Messages = 1
	}
	for range 3 {
		b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
		if err != nil {
			tb.Fatal(err)
		}
		if !log {
			brokers, closers = append(brokers, b), append(closers, b.Close)
			continue
		}
		l, err := redisbroker.NewLog(b, redisbroker.LogOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		brokers, closers = append(brokers, l), append(closers, l.Close)
	}
	return newLatencyCluster(tb, users, brokers, history, func() {
		for _, c := range closers {
			_ = c(context.Background())
		}
	})
}

// BenchmarkRedisInterest runs benchmarkFanout's workload through
// redisbroker's publish/subscribe Router and through its Redis Streams Log
// with history, side by side in one run: SendToUser from the three nodes
// in turn to 1,000 users spread over them. Saturated, the nodes send as
// fast as the broker takes the messages; one at a time, each message is
// sent once the one before has reached its connection. Each reports
// delivered/s end to end and the p50 and p99 latency from SendToUser to
// the write into the user's connection.
func BenchmarkRedisInterest(b *testing.B) {
	for _, path := range []struct {
		name string
		log  bool
	}{{"pubsub", false}, {"streams-log", true}} {
		for _, mode := range []string{"saturated", "one-at-a-time"} {
			b.Run(path.name+"/"+mode, func(b *testing.B) {
				benchmarkRedisInterest(b, path.log, mode == "one-at-a-time")
			})
		}
	}
}

func benchmarkRedisInterest(b *testing.B, log, oneAtATime bool) {
	const users = 1000
	c := newRedisInterestCluster(b, users, log)
	defer c.stop()
	if log {
		// Every connection starts with a reset frame; let them land.
		time.Sleep(100 * time.Millisecond)
	}
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	sent := 0
	var msg []byte
	for i := 0; b.Loop(); i++ {
		msg = strconv.AppendInt(append(msg[:0], "fan-out benchmark message @"...), int64(time.Since(c.start)), 10)
		if _, err := c.nodes[i%3].SendToUser(ctx, "user-"+strconv.Itoa(i%users), msg); err != nil {
			b.Fatal(err)
		}
		sent++
		if oneAtATime {
			select {
			case <-c.each:
			case <-time.After(10 * time.Second):
				b.Fatalf("message %d was not delivered", i)
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.got.Load() < int64(sent) {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", c.got.Load(), sent)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "delivered/s")
	if lat := c.latencies(); len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// TestRedisInterestDeliversEveryMessageOnce checks the benchmark's
// workload on both paths: each of 90 messages to 30 users is delivered
// exactly once.
func TestRedisInterestDeliversEveryMessageOnce(t *testing.T) {
	for _, log := range []bool{false, true} {
		c := newRedisInterestCluster(t, 30, log)
		for i := range 90 {
			msg := strconv.AppendInt([]byte("m @"), int64(time.Since(c.start)), 10)
			if _, err := c.nodes[i%3].SendToUser(context.Background(), "user-"+strconv.Itoa(i%30), msg); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for c.got.Load() < 90 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // a duplicate would land by now
		if got := c.got.Load(); got != 90 {
			t.Errorf("log %v: delivered %d, want exactly 90", log, got)
		}
		c.stop()
	}
}
