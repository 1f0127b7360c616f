package natsbroker_test

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestForgedEnvelopesAreDropped: with a BrokerKey, what a client of NATS
// without the key publishes on a user's subject is dropped and counted by
// every node holding the user.
func TestForgedEnvelopesAreDropped(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	key := []byte("a cluster key of at least 32 bytes, shared by every node")
	a := brokertest.NewFactory(t, newBroker(t, srv.ClientURL()), wsmanager.Options{BrokerKey: key})
	b := brokertest.NewFactory(t, newBroker(t, srv.ClientURL()), wsmanager.Options{BrokerKey: key})
	// Both nodes hold alice, so both receive what is published for her:
	// a node receives only the messages of the users it holds.
	brokertest.Connect(t, a, "alice")
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	brokertest.ForgedEnvelopesAreDropped(t, a, b, brokertest.Raw{
		Publish: func(userID string, payload []byte) {
			if err := nc.Publish(brokerkit.Topic("test.users", userID), payload); err != nil {
				t.Error(err)
			}
		},
		Subscribe: func(userID string) <-chan []byte {
			out := make(chan []byte, 16)
			sub, err := nc.Subscribe(brokerkit.Topic("test.users", userID), func(m *nats.Msg) { out <- m.Data })
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sub.Unsubscribe() })
			return out
		},
	})
}
