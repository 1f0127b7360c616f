package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// startJetStream starts an in-process nats-server with JetStream on
// 127.0.0.1, as contrib/natsbroker's tests do, and returns its URL.
func startJetStream(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
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
	return s.ClientURL()
}

// logNode starts a node whose history is a durable log on url, on a
// connection of its own.
func (c *cluster) logNode(t *testing.T, url string) *node {
	t.Helper()
	l, err := natsbroker.ConnectLog(url, natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "test.users", Logger: quiet()}, MessagesPerUser: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c.startNode(t, wsmanager.Options{Broker: l, History: wsmanager.HistoryOptions{Messages: 1}})
}

// testDrain: the client's node drains (1012), the front sends new
// connections to the other node, and the client resumes there from the
// shared log: nothing lost, nothing twice, no reset.
func testDrain(t *testing.T, browser context.Context) {
	url := startJetStream(t)
	c := newCluster(t)
	a, b := c.logNode(t, url), c.logNode(t, url)
	fr := newFront(t, a.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open"`)
	a.sendAll(t, "alice", numbered("m", 1, 5))
	p.exactly("m", numbered("m", 1, 5))
	pos := p.position()

	fr.point(b.addr)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := a.f.Drain(ctx, wsmanager.DrainOptions{Duration: 200 * time.Millisecond}); err != nil {
		t.Fatalf("draining: %v", err)
	}
	b.sendAll(t, "alice", numbered("m", 6, 10))
	p.wait(`client.state === "open" && events.some(e => e.type === "close" && e.code === 1012)`)
	b.sendAll(t, "alice", numbered("m", 11, 12))
	p.exactly("m", numbered("m", 1, 12))
	if got := b.lastResume(t); got != pos {
		t.Errorf("the client resumed on the other node from %q, want %q", got, pos)
	}
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first connection's", got)
	}
}

// testNodeKilled: the client's node dies with its connections (1006); the
// client resumes on the other node from the shared log.
func testNodeKilled(t *testing.T, browser context.Context) {
	url := startJetStream(t)
	c := newCluster(t)
	a, b := c.logNode(t, url), c.logNode(t, url)
	fr := newFront(t, a.addr)
	p := openTab(t, browser, fr.url())
	p.start(map[string]any{"user": "alice"})
	p.wait(`client.state === "open"`)
	a.sendAll(t, "alice", numbered("m", 1, 5))
	p.exactly("m", numbered("m", 1, 5))
	pos := p.position()

	fr.point(b.addr)
	fr.drop(a.addr)
	a.stop(t)
	b.sendAll(t, "alice", numbered("m", 6, 10))
	p.wait(`client.state === "open" && events.some(e => e.type === "close" && e.code === 1006)`)
	b.sendAll(t, "alice", numbered("m", 11, 12))
	p.exactly("m", numbered("m", 1, 12))
	if got := b.lastResume(t); got != pos {
		t.Errorf("the client resumed on the other node from %q, want %q", got, pos)
	}
	if got := p.count("reset"); got != 1 {
		t.Errorf("%d resets, want only the first connection's", got)
	}
}
