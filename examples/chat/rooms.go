package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/ssotkit/ssot/wsmanager"
)

// rooms carries room messages to every node that has a member in the room.
// wsmanager's Broadcast is node-local, so a room message goes through a
// second Factory in which each room is a "user" with one connection per
// node, a relay: SendToUser(room) reaches the relay on every node exactly
// once (through the cluster's broker, signed under the same key), and each
// relay broadcasts the message to its node's members of the room. Without
// a broker the relays of this one node do the same. It is safe for
// concurrent use.
type rooms struct {
	relays *wsmanager.Factory // users are rooms
	users  *wsmanager.Factory // the chat's

	mu     sync.Mutex
	joined map[string]bool
	wg     sync.WaitGroup // one per relay's Serve
}

// join makes sure this node's relay of room is registered, so that room
// messages from every node reach this node's members from now on.
func (r *rooms) join(room string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.joined[room] {
		return nil
	}
	res, err := r.relays.Reserve(context.Background(), wsmanager.UserContext{UserID: room})
	if err != nil {
		return fmt.Errorf("chat: joining room: %w", err)
	}
	if r.joined == nil {
		r.joined = map[string]bool{}
	}
	r.joined[room] = true
	relay := &relayConn{room: room, users: r.users, closed: make(chan struct{})}
	r.wg.Go(func() {
		_ = res.Serve(relay, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	})
	return nil
}

// say sends a room message to the room's members on every node.
func (r *rooms) say(ctx context.Context, room string, msg []byte) error {
	_, err := r.relays.SendToUser(ctx, room, msg)
	return err
}

// Close closes the relays' Factory, which closes every relay, and waits
// for them.
func (r *rooms) Close(ctx context.Context) error {
	err := r.relays.Close(ctx)
	r.wg.Wait()
	return err
}

// relayConn is a room's relay on this node: a wsmanager.Conn whose writes
// are broadcast to the node's members of the room, and which never reads.
type relayConn struct {
	room   string
	users  *wsmanager.Factory
	closed chan struct{}
	once   sync.Once
}

func (c *relayConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *relayConn) Write(ctx context.Context, msg []byte) error {
	room := c.room
	c.users.Broadcast(ctx, msg, func(uc wsmanager.UserContext) bool { return uc.ThreadID == room })
	return nil
}

func (c *relayConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}
