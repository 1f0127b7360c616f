package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/centrifugal/centrifuge"
)

// centrifugePeer is a centrifuge Node behind its WebSocket handler, with
// every client subscribed to one channel: a broadcast is one Publish to it.
type centrifugePeer struct {
	node *centrifuge.Node
	ws   *centrifuge.WebsocketHandler
}

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
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, err
	}
	// The write timeout of the other peers.
	h := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{WriteTimeout: 10 * time.Second})
	return &centrifugePeer{node: node, ws: h}, nil
}

func (p *centrifugePeer) handle(w http.ResponseWriter, r *http.Request) { p.ws.ServeHTTP(w, r) }

func (p *centrifugePeer) broadcast(msg []byte) {
	if _, err := p.node.Publish(centrifugeChannel, msg); err != nil {
		fmt.Fprintln(os.Stderr, "centrifuge:", err)
	}
}

// conns counts the clients subscribed to the channel, which a Publish
// reaches.
func (p *centrifugePeer) conns() int { return p.node.Hub().NumSubscribers(centrifugeChannel) }

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

func (centrifugeWire) join(c *client) error {
	if err := centrifugeCommand(c, 1, `{"id":1,"connect":{}}`); err != nil {
		return fmt.Errorf("centrifuge connect: %w", err)
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
