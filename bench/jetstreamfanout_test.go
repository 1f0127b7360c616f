package bench

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// newJetStreamCluster joins three nodes by natsbroker's Log over a real,
// in-process nats-server with JetStream on 127.0.0.1, storing on disk in a
// temporary directory: the workload of newNATSCluster, with every message
// stored in the stream before any node delivers it.
func newJetStreamCluster(tb testing.TB, users int) *cluster {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server did not start")
	}
	var brokers []wsmanager.Broker
	for range 3 {
		l, err := natsbroker.ConnectLog(ns.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()}})
		if err != nil {
			tb.Fatal(err)
		}
		brokers = append(brokers, l)
	}
	return newCluster(tb, users, brokers, wsmanager.HistoryOptions{Messages: 1}, func() {
		for _, b := range brokers {
			_ = b.(*natsbroker.Log).Close(context.Background())
		}
		ns.Shutdown()
		ns.WaitForShutdown()
	})
}

// BenchmarkJetStreamFanout is benchmarkFanout through a JetStream Log.
func BenchmarkJetStreamFanout(b *testing.B) { benchmarkFanout(b, newJetStreamCluster) }

func TestJetStreamFanoutDeliversEveryMessageOnce(t *testing.T) {
	testFanoutDeliversEveryMessageOnce(t, newJetStreamCluster)
}
