package redisbroker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/brokertest"
	"github.com/ssotkit/ssot/internal/redistest"
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

// TestDocumentedACLSuffices runs the cluster as a Redis user that holds
// exactly the ACL the package doc tells a deployment to grant, and checks
// that it is enforced: delivery works, and the same user cannot publish
// outside the prefix.
func TestDocumentedACLSuffices(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	// The line of the package doc, with the prefix of newBroker.
	acl := "ACL SETUSER chat on >pw resetkeys resetchannels &test.users.* -@all +publish +subscribe +unsubscribe +ping"
	var args []any
	for _, f := range strings.Fields(acl)[1:] {
		args = append(args, f)
	}
	if err := admin.Do(ctx, append([]any{"acl"}, args...)...).Err(); err != nil {
		t.Fatal(err)
	}
	var nodes []*wsmanager.Factory
	for range 3 {
		nodes = append(nodes, brokertest.NewFactory(t, newBroker(t, srv.URL("chat:pw@")), wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)

	chat := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "chat", Password: "pw"})
	defer chat.Close()
	if err := chat.Publish(ctx, "elsewhere", "x").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("publishing outside the prefix = %v, want NOPERM", err)
	}
}
