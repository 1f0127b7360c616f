package bench

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// countConn is an in-memory wsmanager.Conn that counts what is written to it.
type countConn struct {
	n      *atomic.Int64
	closed chan struct{}
	once   sync.Once
}

func (c *countConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *countConn) Write(context.Context, []byte) error { c.n.Add(1); return nil }

func (c *countConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cluster is three wsmanager nodes, one per broker, with users connected
// round-robin: user i has one connection, on node i%3.
type cluster struct {
	nodes     []*wsmanager.Factory
	delivered atomic.Int64
	stop      func()
}

// newCluster builds the nodes over brokers (three, one per node), with
// history; stop closes the nodes, then calls closeBrokers.
func newCluster(tb testing.TB, users int, brokers []wsmanager.Broker, history wsmanager.HistoryOptions, closeBrokers func()) *cluster {
	tb.Helper()
	c := &cluster{}
	var (
		conns   []*countConn
		serving sync.WaitGroup
	)
	for _, b := range brokers {
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quietLogger(), QueueSize: 4096, History: history})
		if err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, f)
	}
	for i := range users {
		// Reserve registers the connection before returning, so every user
		// is reachable once this loop ends; Serve then gives it its Conn.
		r, err := c.nodes[i%3].Reserve(context.Background(), wsmanager.UserContext{UserID: "user-" + strconv.Itoa(i)})
		if err != nil {
			tb.Fatal(err)
		}
		conn := &countConn{n: &c.delivered, closed: make(chan struct{})}
		conns = append(conns, conn)
		serving.Go(func() {
			_ = r.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
		})
	}
	if history.Messages > 0 {
		// With history, a connection with no position to resume from starts
		// with a reset frame, which tells it where its stream stands: not a
		// message of the workload.
		deadline := time.Now().Add(10 * time.Second)
		for c.delivered.Load() < int64(users) {
			if time.Now().After(deadline) {
				tb.Fatalf("%d of %d reset frames written", c.delivered.Load(), users)
			}
			time.Sleep(time.Millisecond)
		}
		c.delivered.Store(0)
	}
	c.stop = func() {
		for _, conn := range conns {
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

// benchmarkFanout sends SendToUser from the three nodes in turn to 1,000
// users spread over the nodes, so two messages in three cross the broker,
// and reports delivered messages per second end to end (publish, broker,
// remote delivery into the user's connection).
func benchmarkFanout(b *testing.B, newCluster func(testing.TB, int) *cluster) {
	const users = 1000
	c := newCluster(b, users)
	defer c.stop()
	ctx := context.Background()
	msg := []byte("fan-out benchmark message")
	b.ReportAllocs()
	start := time.Now()
	sent := 0
	for i := 0; b.Loop(); i++ {
		if _, err := c.nodes[i%3].SendToUser(ctx, "user-"+strconv.Itoa(i%users), msg); err != nil {
			b.Fatal(err)
		}
		sent++
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.delivered.Load() < int64(sent) {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", c.delivered.Load(), sent)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "delivered/s")
}

// testFanoutDeliversEveryMessageOnce checks the benchmark's workload: each
// of 90 messages to 30 users is delivered exactly once.
func testFanoutDeliversEveryMessageOnce(t *testing.T, newCluster func(testing.TB, int) *cluster) {
	c := newCluster(t, 30)
	defer c.stop()
	for i := range 90 {
		if _, err := c.nodes[i%3].SendToUser(context.Background(), "user-"+strconv.Itoa(i%30), []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.delivered.Load() < 90 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a duplicate would land by now
	if got := c.delivered.Load(); got != 90 {
		t.Fatalf("delivered %d, want exactly 90", got)
	}
}
