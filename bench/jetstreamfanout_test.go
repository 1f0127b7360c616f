package bench

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// newJetStreamCluster joins three nodes by natsbroker's Log over a real,
// in-process nats-server with JetStream on 127.0.0.1, storing on disk in a
// temporary directory: the workload of newNATSCluster, with every message
// stored in the stream before any node delivers it.
func newJetStreamCluster(tb testing.TB, users int) *cluster {
	return natsCluster(tb, users, server.Options{JetStream: true, StoreDir: tb.TempDir()}, wsmanager.HistoryOptions{Messages: 1}, func(url string) (natsNode, error) {
		return natsbroker.ConnectLog(url, natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "bench.users", Logger: quietLogger()}})
	})
}

// BenchmarkJetStreamFanout is benchmarkFanout through a JetStream Log.
func BenchmarkJetStreamFanout(b *testing.B) { benchmarkFanout(b, newJetStreamCluster) }

func TestJetStreamFanoutDeliversEveryMessageOnce(t *testing.T) {
	testFanoutDeliversEveryMessageOnce(t, newJetStreamCluster)
}
