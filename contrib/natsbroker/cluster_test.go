package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

func startNATS(t *testing.T, port int) *server.Server {
	t.Helper()
	return startNATSWith(t, server.Options{Port: port})
}

// startNATSWith starts an in-process nats-server on 127.0.0.1 with opts.
func startNATSWith(t *testing.T, opts server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.NoLog, opts.NoSigs = "127.0.0.1", true, true
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func newBroker(t *testing.T, url string) *natsbroker.Broker {
	t.Helper()
	b, err := natsbroker.Connect(url, natsbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet()}, nats.ReconnectWait(20*time.Millisecond))
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
	srv := startNATS(t, -1)
	var nodes []*wsmanager.Factory
	for range 3 {
		nodes = append(nodes, brokertest.NewFactory(t, newBroker(t, srv.ClientURL()), wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)
}

func TestNATSOutageKeepsLocalDeliveryAndResumes(t *testing.T) {
	t.Parallel()
	srv := startNATS(t, -1)
	port := srv.Addr().(*net.TCPAddr).Port
	ba, bb := newBroker(t, srv.ClientURL()), newBroker(t, srv.ClientURL())
	a, b := brokertest.NewFactory(t, ba, wsmanager.Options{}), brokertest.NewFactory(t, bb, wsmanager.Options{})
	brokertest.OutageKeepsLocalDeliveryAndResumes(t, a, b, brokertest.Outage{
		Stop: func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		},
		Start:      func() { startNATS(t, port) },
		Down:       func() bool { return !ba.Connected() && !bb.Connected() },
		Connected:  func() bool { return ba.Connected() && bb.Connected() },
		ErrDown:    natsbroker.ErrDisconnected,
		Reconnects: func() (uint64, uint64) { return ba.Stats().Reconnects, bb.Stats().Reconnects },
	})
}

func TestConnectErrorsNeverQuoteTheURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"nats://user:s3cret@127.0.0.1:bad", "nats://user:s3cret@%zz", "nats://s3cret@127.0.0.1:bad"} {
		_, err := natsbroker.Connect(u, natsbroker.Options{Logger: brokertest.Quiet()})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Connect with a malformed URL = %v, want an error that does not quote it", err)
		}
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			t.Errorf("Connect error %v does not wrap the parse error", err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := natsbroker.New(nil, natsbroker.Options{}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v", err)
	}
	for _, p := range []string{"a.*", "a b", "a.", "a.>"} {
		if _, err := natsbroker.Connect("nats://127.0.0.1:1", natsbroker.Options{Prefix: p}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	srv := startNATS(t, -1)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natsbroker.New(nc, natsbroker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"", strings.Repeat("u", natsbroker.MaxUserIDLen+1), strings.Repeat("u", 4096)} {
		if err := b.Publish(context.Background(), user, []byte("x")); !errors.Is(err, natsbroker.ErrInvalidUser) {
			t.Errorf("user of %d bytes = %v", len(user), err)
		}
	}
	// A rejected ID must not have cost the connection (a subject over the
	// server's control-line limit makes it close the connection for good).
	if err := b.Publish(context.Background(), strings.Repeat("u", natsbroker.MaxUserIDLen), []byte("x")); err != nil || !nc.IsConnected() {
		t.Errorf("longest valid user ID: %v, connected %v", err, nc.IsConnected())
	}
	if st := b.Stats(); st.PublishErrors != 3 || st.Published != 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	// Messages under the prefix that no Broker published are counted and
	// dropped, never delivered.
	brokertest.MalformedAreCountedNotDelivered(t, b, []string{natsbroker.DefaultPrefix + ".!!!"}, natsbroker.DefaultPrefix+".YWxpY2U",
		func(subj string) {
			if err := nc.Publish(subj, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}, func() uint64 { return b.Stats().Malformed })
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), "u", []byte("x")); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("after Close = %v", err)
	}
	if !nc.IsConnected() {
		t.Error("Close closed a connection the broker does not own")
	}
}

// TestDocumentedPermissionsSuffice runs the cluster over a NATS user that
// holds exactly the permissions the package doc tells a deployment to
// grant, and checks that they are enforced: delivery works, and the same
// user cannot publish outside the prefix.
func TestDocumentedPermissionsSuffice(t *testing.T) {
	t.Parallel()
	perms := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"test.users.*"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"test.users.*"}},
	}
	s := startNATSWith(t, server.Options{Port: -1, Users: []*server.User{{Username: "chat", Password: "pw", Permissions: perms}}})
	url := fmt.Sprintf("nats://chat:pw@%s", s.Addr())
	var nodes []*wsmanager.Factory
	for range 3 {
		nodes = append(nodes, brokertest.NewFactory(t, newBroker(t, url), wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)

	denied := make(chan error, 1)
	nc, err := nats.Connect(url, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case denied <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("elsewhere", []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-denied:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("publishing outside the prefix: %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("publishing outside the prefix was not refused")
	}
}
