package redisbroker_test

import (
	"context"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

func newBroker(t *testing.T, url string) *redisbroker.Broker {
	t.Helper()
	b, err := redisbroker.Connect(url, redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet(), ReconnectWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestSendToUserReachesEveryNodeExactlyOnceInOrder(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var nodes []*wsmanager.Factory
	for range 3 {
		nodes = append(nodes, brokertest.NewFactory(t, newBroker(t, srv.URL("")), wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)
}

func TestRedisRestartKeepsLocalDeliveryAndResumes(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ba, bb := newBroker(t, srv.URL("")), newBroker(t, srv.URL(""))
	a, b := brokertest.NewFactory(t, ba, wsmanager.Options{}), brokertest.NewFactory(t, bb, wsmanager.Options{})
	brokertest.OutageKeepsLocalDeliveryAndResumes(t, a, b, brokertest.Outage{
		Stop:       srv.Stop,
		Start:      srv.Restart,
		Down:       func() bool { return !ba.Connected() && !bb.Connected() },
		Connected:  func() bool { return ba.Connected() && bb.Connected() },
		ErrDown:    redisbroker.ErrDisconnected,
		Reconnects: func() (uint64, uint64) { return ba.Stats().Reconnects, bb.Stats().Reconnects },
	})
}
