package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/centrifugal/centrifuge"
)

// centrifugePeer is a centrifuge Node behind its WebSocket handler, with
// every active client subscribed to one channel: a broadcast is one
// Publish to it. An idle client connects and subscribes to nothing.
type centrifugePeer struct {
	node *centrifuge.Node
	ws   *centrifuge.WebsocketHandler
	// idle counts the idle clients connected.
	idle atomic.Int64
}

// idleKey is the request context's key marking an idle client, which
// centrifuge hands on to the client's context.
type idleKey struct{}

const centrifugeChannel = "bench"

func newCentrifugePeer() (peer, error) {
	node, err := centrifuge.New(centrifuge.Config{
		LogLevel: centrifuge.LogLevelNone,
		// Like every buffering peer's, the queue holds the slow-client
		// run's burst (it is counted in bytes here).
		ClientQueueMaxSize: queueSize * 16 << 10,
	})
	if err != nil {
		return nil, err
	}
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{}}, nil
	})
	p := &centrifugePeer{node: node}
	node.OnConnect(func(c *centrifuge.Client) {
		if c.Context().Value(idleKey{}) != nil {
			p.idle.Add(1)
			c.OnDisconnect(func(centrifuge.DisconnectEvent) { p.idle.Add(-1) })
		}
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, err
	}
	// The write timeout of the other peers.
	p.ws = centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{WriteTimeout: 10 * time.Second})
	return p, nil
}

func (p *centrifugePeer) handle(w http.ResponseWriter, r *http.Request) {
	if isIdle(r) {
		r = r.WithContext(context.WithValue(r.Context(), idleKey{}, true))
	}
	p.ws.ServeHTTP(w, r)
}

func (p *centrifugePeer) broadcast(msg []byte) {
	if _, err := p.node.Publish(centrifugeChannel, msg); err != nil {
		fmt.Fprintln(os.Stderr, "centrifuge:", err)
	}
}

// conns counts the clients subscribed to the channel, which a Publish
// reaches, and the idle clients.
func (p *centrifugePeer) conns() int {
	return p.node.Hub().NumSubscribers(centrifugeChannel) + int(p.idle.Load())
}

func (p *centrifugePeer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.node.Shutdown(ctx)
}

// centrifugeWire is the client side of centrifuge's JSON protocol, as
// little of it as the benchmark needs: a connect command, a subscribe
// command, then publications arrive as pushes. A frame carries one or
// more replies or pushes, one a line; an empty object is the server's
// ping, answered with an empty object.
type centrifugeWire struct{}

// join connects, and an active client subscribes: the least an idle
// client can send is the connect command, without which centrifuge closes
// it.
func (centrifugeWire) join(c *client, idle bool) error {
	if err := centrifugeCommand(c, 1, `{"id":1,"connect":{}}`); err != nil {
		return fmt.Errorf("centrifuge connect: %w", err)
	}
	if idle {
		return nil
	}
	if err := centrifugeCommand(c, 2, `{"id":2,"subscribe":{"channel":"`+centrifugeChannel+`"}}`); err != nil {
		return fmt.Errorf("centrifuge subscribe: %w", err)
	}
	return nil
}

// centrifugeCommand sends cmd and reads until the reply with its id.
func centrifugeCommand(c *client, id uint32, cmd string) error {
	if err := c.send([]byte(cmd)); err != nil {
		return err
	}
	for {
		frame, err := c.next()
		if err != nil {
			return err
		}
		for line := range bytes.Lines(frame) {
			var reply struct {
				ID    uint32          `json:"id"`
				Error json.RawMessage `json:"error"`
			}
			if err := json.Unmarshal(line, &reply); err != nil {
				return err
			}
			if reply.ID != id {
				continue
			}
			if reply.Error != nil {
				return fmt.Errorf("error reply %s", reply.Error)
			}
			return nil
		}
	}
}

func (centrifugeWire) receive(c *client, got func([]byte) error) error {
	frame, err := c.next()
	if err != nil {
		return err
	}
	for line := range bytes.Lines(frame) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if string(line) == "{}" {
			if err := c.send(line); err != nil {
				return err
			}
			continue
		}
		// A publication is {"push":{"channel":…,"pub":{"data":DATA,…}}};
		// the payload is DATA, as published.
		_, data, ok := bytes.Cut(line, []byte(`"data":`))
		if !ok {
			return fmt.Errorf("centrifuge: unexpected frame %.80q", line)
		}
		if err := got(data); err != nil {
			return err
		}
	}
	return nil
}
