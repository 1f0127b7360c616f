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

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
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

// natsCluster is three wsmanager nodes joined by natsbroker over a real,
// in-process nats-server on 127.0.0.1, with users connected round-robin: user
// i has one connection, on node i%3.
type natsCluster struct {
	nodes     []*wsmanager.Factory
	delivered atomic.Int64
	stop      func()
}

func newNATSCluster(tb testing.TB, users int) *natsCluster {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server did not start")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &natsCluster{}
	var (
		brokers []*natsbroker.Broker
		conns   []*countConn
		serving sync.WaitGroup
	)
	for range 3 {
		b, err := natsbroker.Connect(ns.ClientURL(), natsbroker.Options{Prefix: "bench.users", Logger: quiet})
		if err != nil {
			tb.Fatal(err)
		}
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quiet, QueueSize: 4096})
		if err != nil {
			tb.Fatal(err)
		}
		brokers = append(brokers, b)
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
	c.stop = func() {
		for _, conn := range conns {
			conn.Close(1000, "")
		}
		serving.Wait()
		for i, f := range c.nodes {
			_ = f.Close(context.Background())
			_ = brokers[i].Close(context.Background())
		}
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	return c
}

// BenchmarkNATSFanout sends SendToUser from the three nodes in turn to 1,000
// users spread over the nodes, so two messages in three cross NATS, and
// reports delivered messages per second end to end (publish, NATS, remote
// delivery into the user's connection).
func BenchmarkNATSFanout(b *testing.B) {
	const users = 1000
	c := newNATSCluster(b, users)
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

func TestNATSFanoutDeliversEveryMessageOnce(t *testing.T) {
	c := newNATSCluster(t, 30)
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
