package bench

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// newNATSCluster joins three nodes by natsbroker over a real, in-process
// nats-server on 127.0.0.1.
func newNATSCluster(tb testing.TB, users int) *cluster {
	return natsCluster(tb, users, server.Options{}, wsmanager.HistoryOptions{}, func(url string) (natsNode, error) {
		return natsbroker.Connect(url, natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
	})
}

// natsNode is what natsCluster needs of a broker: natsbroker's Broker or
// Log.
type natsNode interface {
	wsmanager.Broker
	Close(context.Context) error
}

// natsCluster joins three nodes, with history, by the brokers connect
// makes to a real, in-process nats-server on 127.0.0.1 started with opts.
func natsCluster(tb testing.TB, users int, opts server.Options, history wsmanager.HistoryOptions, connect func(url string) (natsNode, error)) *cluster {
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
	var nodes []natsNode
	var brokers []wsmanager.Broker
	for range 3 {
		b, err := connect(ns.ClientURL())
		if err != nil {
			tb.Fatal(err)
		}
		nodes = append(nodes, b)
		brokers = append(brokers, b)
	}
	return newCluster(tb, users, brokers, history, func() {
		for _, b := range nodes {
			_ = b.Close(context.Background())
		}
		ns.Shutdown()
		ns.WaitForShutdown()
	})
}

// BenchmarkNATSFanout is benchmarkFanout through NATS.
func BenchmarkNATSFanout(b *testing.B) { benchmarkFanout(b, newNATSCluster) }

func TestNATSFanoutDeliversEveryMessageOnce(t *testing.T) {
	testFanoutDeliversEveryMessageOnce(t, newNATSCluster)
}
