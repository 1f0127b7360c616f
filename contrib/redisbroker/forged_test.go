package redisbroker_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestForgedEnvelopesAreDropped: with a BrokerKey, what a client of Redis
// without the key publishes on a user's channel is dropped and counted.
// A node receives only the messages of the users it holds, so alice has a
// connection on both nodes: both then see, and reject, every forgery.
func TestForgedEnvelopesAreDropped(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	key := []byte("a cluster key of at least 32 bytes, shared by every node")
	a := brokertest.NewFactory(t, newBroker(t, srv.URL("")), wsmanager.Options{BrokerKey: key})
	b := brokertest.NewFactory(t, newBroker(t, srv.URL("")), wsmanager.Options{BrokerKey: key})
	brokertest.Connect(t, a, "alice")
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	ctx := context.Background()
	brokertest.ForgedEnvelopesAreDropped(t, a, b, brokertest.Raw{
		Publish: func(userID string, payload []byte) {
			if err := client.Publish(ctx, brokerkit.Topic("test.users", userID), payload).Err(); err != nil {
				t.Error(err)
			}
		},
		Subscribe: func(userID string) <-chan []byte {
			out := make(chan []byte, 16)
			receive(t, client.Subscribe(ctx, brokerkit.Topic("test.users", userID)), func(m *redis.Message) {
				out <- []byte(m.Payload)
			})
			return out
		},
	})
}
