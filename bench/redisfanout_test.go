package bench

import (
	"context"
	"testing"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// newRedisCluster joins three nodes by redisbroker over a real
// redis-server on 127.0.0.1, the workload of newNATSCluster.
func newRedisCluster(tb testing.TB, users int) *cluster {
	tb.Helper()
	srv := redistest.Start(tb)
	var brokers []wsmanager.Broker
	for range 3 {
		b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
		if err != nil {
			tb.Fatal(err)
		}
		brokers = append(brokers, b)
	}
	return newCluster(tb, users, brokers, wsmanager.HistoryOptions{}, func() {
		for _, b := range brokers {
			_ = b.(*redisbroker.Broker).Close(context.Background())
		}
	})
}

// BenchmarkRedisFanout is benchmarkFanout through Redis.
func BenchmarkRedisFanout(b *testing.B) { benchmarkFanout(b, newRedisCluster) }

func TestRedisFanoutDeliversEveryMessageOnce(t *testing.T) {
	testFanoutDeliversEveryMessageOnce(t, newRedisCluster)
}

// newRedisLogCluster is newRedisCluster through redisbroker's Redis Streams
// Log, with history on: the workload of newJetStreamCluster.
func newRedisLogCluster(tb testing.TB, users int) *cluster {
	tb.Helper()
	srv := redistest.Start(tb)
	var logs []*redisbroker.Log
	var brokers []wsmanager.Broker
	for range 3 {
		b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "bench.users", Logger: quietLogger()})
		if err != nil {
			tb.Fatal(err)
		}
		l, err := redisbroker.NewLog(b, redisbroker.LogOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		logs, brokers = append(logs, l), append(brokers, l)
	}
	return newCluster(tb, users, brokers, wsmanager.HistoryOptions{Messages: 1}, func() {
		for _, l := range logs {
			_ = l.Close(context.Background())
		}
	})
}

// BenchmarkRedisLogFanout is benchmarkFanout through a Redis Streams Log.
func BenchmarkRedisLogFanout(b *testing.B) { benchmarkFanout(b, newRedisLogCluster) }

func TestRedisLogFanoutDeliversEveryMessageOnce(t *testing.T) {
	testFanoutDeliversEveryMessageOnce(t, newRedisLogCluster)
}
