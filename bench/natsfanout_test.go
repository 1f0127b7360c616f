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
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats-server did not start")
	}
	var brokers []wsmanager.Broker
	for range 3 {
		b, err := natsbroker.Connect(ns.ClientURL(), natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
		if err != nil {
			tb.Fatal(err)
		}
		brokers = append(brokers, b)
	}
	return newCluster(tb, users, brokers, wsmanager.HistoryOptions{}, func() {
		for _, b := range brokers {
			_ = b.(*natsbroker.Broker).Close(context.Background())
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
