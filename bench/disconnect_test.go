package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestDisconnectUserAcrossNodes: Factory.DisconnectUser, called on one node
// of three joined by a real broker on 127.0.0.1, closes the user's
// connections on every node, over NATS core, JetStream, Redis pub/sub and
// the Redis Streams Log, with a p99 from the call to the last of the
// user's three connections closed under one second, and closes no other
// user's.
func TestDisconnectUserAcrossNodes(t *testing.T) {
	const users = 60
	backends := []struct {
		name string
		make func(*testing.T) routingBackend
	}{
		{"nats", func(t *testing.T) routingBackend { return natsRoutingBackend(t, false) }},
		{"jetstream", func(t *testing.T) routingBackend { return natsRoutingBackend(t, true) }},
		{"redis", redisRoutingBackend},
		{"redis-streams", redisStreamsRoutingBackend},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.make(t)
			ctx := context.Background()
			// Waited for after the Factories' Close, which ends the
			// connections still served: cleanups run last first.
			var served sync.WaitGroup
			t.Cleanup(served.Wait)
			nodes := make([]*wsmanager.Factory, 3)
			for i := range nodes {
				br, _ := be.connect(t, i)
				opts := wsmanager.Options{Broker: br, Logger: quietLogger()}
				if be.history {
					opts.History = wsmanager.HistoryOptions{Messages: 1}
				}
				f, err := wsmanager.NewFactory(opts)
				if err != nil {
					t.Fatal(err)
				}
				nodes[i] = f
				t.Cleanup(func() {
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					_ = f.Close(cctx)
					_ = br.Close(cctx)
				})
			}
			// Every user has a connection on every node, and one more
			// user, never disconnected, too.
			peers := map[string][]*memconn.Conn{}
			for u := range users + 1 {
				user := fmt.Sprint("user-", u)
				for _, f := range nodes {
					res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: user})
					if err != nil {
						t.Fatal(err)
					}
					p := memconn.New(memconn.Options{Discard: true})
					peers[user] = append(peers[user], p)
					served.Go(func() {
						_ = res.Serve(p, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
					})
				}
			}
			took := make([]time.Duration, 0, users)
			for u := range users {
				user := fmt.Sprint("user-", u)
				start := time.Now()
				if err := nodes[u%3].DisconnectUser(ctx, user, 4001, "logged out"); err != nil {
					t.Fatal(err)
				}
				for i, p := range peers[user] {
					select {
					case <-p.Done():
					case <-time.After(5 * time.Second):
						t.Fatalf("%s's connection on node %d still open 5s after DisconnectUser", user, i)
					}
					if code, _, _ := p.Closed(); code != 4001 {
						t.Errorf("%s's connection on node %d closed with %d, want 4001", user, i, code)
					}
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			p50, p99 := took[len(took)/2], took[len(took)*99/100]
			t.Logf("%s: DisconnectUser to the last of 3 nodes' connections closed: p50 %v, p99 %v", b.name, p50, p99)
			if p99 > time.Second {
				t.Errorf("p99 %v, want under 1s", p99)
			}
			for i, p := range peers[fmt.Sprint("user-", users)] {
				if _, _, closed := p.Closed(); closed {
					t.Errorf("another user's connection on node %d was closed", i)
				}
			}
		})
	}
}
