package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
)

// The cluster tests run three nodes in this process: each is the real
// service (runWith, as main runs it) on its own 127.0.0.1 port with its own
// broker connections, so what crosses between nodes crosses the real
// broker server, while the race detector and goleak watch every node. Real
// WebSocket clients connect to each node over TCP.

func startNATSServer(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(testTimeout) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}

// startCluster starts three nodes sharing brokerURL, a JWT secret (so a
// token from one node's development login is valid on every node) and a
// broker key.
func startCluster(t *testing.T, brokerURL string) []*service {
	t.Helper()
	vars := map[string]string{
		"CHAT_BROKER":     brokerURL,
		"CHAT_BROKER_KEY": "a cluster key of at least 32 bytes, shared",
		"JWT_SECRET":      "a JWT secret of at least 32 bytes, shared too",
	}
	var nodes []*service
	for range 3 {
		nodes = append(nodes, start(t, vars, hooks{}))
	}
	return nodes
}

func TestClusterDeliversAcrossNodesExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		broker func(t *testing.T) string
	}{
		{"nats", startNATSServer},
		{"redis", func(t *testing.T) string { return redistest.Start(t).URL("") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes := startCluster(t, tc.broker(t))
			users := []string{"alice", "bob", "carol"}
			conns := map[string]*websocket.Conn{}
			for i, u := range users {
				conns[u] = nodes[i].connect(t, u, "lobby")
			}
			// Every node has a member in the lobby now; each says
			// something, bob writes to carol directly, and each ends with
			// a marker. Room messages of one sender keep their order, so
			// once a client has every marker, every room message sent
			// before them has arrived, duplicates included. The direct
			// message crosses the cluster by another path (SendToUser
			// through the broker, not the room's relay), so the recipient
			// waits for it as well.
			for _, u := range users {
				send(t, conns[u], inbound{Type: "say", Text: "hello from " + u})
			}
			send(t, conns["bob"], inbound{Type: "dm", To: "carol", Text: "psst"})
			for _, u := range users {
				send(t, conns[u], inbound{Type: "say", Text: "end " + u})
			}
			for i, u := range users {
				got := map[string]int{}
				dm := u == "bob" || u == "carol" // the recipient and the sender's echo
				for ends := 0; ends < len(users) || dm && got["dm bob>carol psst"] == 0; {
					m := next(t, conns[u])
					got[fmt.Sprintf("%s %s>%s %s", m.Type, m.From, m.To, m.Text)]++
					if strings.HasPrefix(m.Text, "end ") {
						ends++
					}
				}
				want := map[string]int{}
				for _, from := range users {
					want[fmt.Sprintf("message %s> hello from %s", from, from)] = 1
					want[fmt.Sprintf("message %s> end %s", from, from)] = 1
				}
				if dm {
					want["dm bob>carol psst"] = 1
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s on node %d received (-want +got):\n%s", u, i, diff)
				}
			}
			for i, n := range nodes {
				h := n.health(t)
				if h.Cluster.Broker != tc.name || !h.Cluster.Signed || !h.Cluster.Connected {
					t.Errorf("node %d: /healthz cluster %+v", i, h.Cluster)
				}
				if h.Connections.BrokerRejected != 0 || h.Connections.BrokerErrors != 0 {
					t.Errorf("node %d: connection stats %+v", i, h.Connections)
				}
			}
			// /metrics reports the node's connection and its broker link.
			status, body := nodes[0].get(t, "/metrics", "")
			for _, want := range []string{
				`ssot_ws_connections_active{factory="chat"} 1`,
				fmt.Sprintf(`ssot_broker_connected{broker=%q,prefix="chat.users"} 1`, tc.name),
				fmt.Sprintf(`ssot_broker_connected{broker=%q,prefix="chat.rooms"} 1`, tc.name),
				`ssot_auth_cache_hits_total`,
			} {
				if status != 200 || !strings.Contains(string(body), want) {
					t.Errorf("/metrics (status %d) lacks %s", status, want)
				}
			}
		})
	}
}

func TestClusterSettingsAreValidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unknown scheme", map[string]string{"CHAT_BROKER": "amqp://h"}, "CHAT_BROKER"},
		{"short key", map[string]string{"CHAT_BROKER": "nats://127.0.0.1:4222", "CHAT_BROKER_KEY": "tiny-key-value"}, "CHAT_BROKER_KEY"},
		{"key without broker", map[string]string{"CHAT_BROKER_KEY": strings.Repeat("k", 32)}, "CHAT_BROKER_KEY"},
		{"no key in production", map[string]string{"ENVIRONMENT": "production", "CHAT_BROKER": "redis://:s3cretpw@127.0.0.1:1"}, "CHAT_BROKER_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(env.Map(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("loadConfig = %v, want a problem with %s", err, tc.want)
			}
			for _, secret := range []string{"s3cretpw", "tiny-key-value"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes a secret value: %v", err)
				}
			}
		})
	}
}
