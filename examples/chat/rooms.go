package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ssotkit/ssot/wsmanager"
)

// errTooManyRooms is returned by rooms.join when the room is new and
// CHAT_MAX_ROOMS rooms already have members on this node.
var errTooManyRooms = errors.New("chat: too many rooms")

// rooms carries room messages to every node that has a member in the room.
// wsmanager's Broadcast is node-local, so a room message goes through a
// second Factory in which each room is a "user" with one connection per
// node, a relay: SendToUser(room) reaches the relay on every node exactly
// once (through the cluster's broker, signed under the same key), and each
// relay broadcasts the message to its node's members of the room. Without
// a broker the relays of this one node do the same.
//
// A room's relay lives while the room has a member on this node: join
// registers it with the first member, leave closes it with the last. At
// most max rooms have members on the node at once. It is safe for
// concurrent use.
type rooms struct {
	relays *wsmanager.Factory // users are rooms
	users  *wsmanager.Factory // the chat's
	max    int                // rooms with members on this node at once

	mu      sync.Mutex
	members map[string]map[*wsmanager.Connection]struct{} // room → its members here
	wg      sync.WaitGroup                                // one per relay's Serve
}

// join adds c to its room's members, registering this node's relay of the
// room with its first member, so that room messages from every node reach
// this node's members from then on. It returns errTooManyRooms, adding
// nothing, when the room is new and max rooms have members already.
func (r *rooms) join(c *wsmanager.Connection) error {
	room := c.User().ThreadID
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.members[room]; ok {
		m[c] = struct{}{}
		return nil
	}
	if len(r.members) >= r.max {
		// A connection whose upgrade failed was never served and never
		// left: its rooms are counted until they are looked at.
		r.pruneLocked()
		if len(r.members) >= r.max {
			return errTooManyRooms
		}
	}
	res, err := r.relays.Reserve(context.Background(), wsmanager.UserContext{UserID: room})
	if err != nil {
		return fmt.Errorf("chat: joining room: %w", err)
	}
	if r.members == nil {
		r.members = map[string]map[*wsmanager.Connection]struct{}{}
	}
	r.members[room] = map[*wsmanager.Connection]struct{}{c: {}}
	relay := &relayConn{room: room, users: r.users, closed: make(chan struct{})}
	r.wg.Go(func() {
		_ = res.Serve(relay, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	})
	return nil
}

// leave removes c from its room's members and, if it was the last, closes
// the room's relay on this node.
func (r *rooms) leave(c *wsmanager.Connection) {
	room := c.User().ThreadID
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.members[room]
	if !ok {
		return
	}
	delete(m, c)
	if len(m) == 0 {
		r.releaseLocked(room)
	}
}

// pruneLocked forgets the members that ended without leaving and releases
// the rooms that leaves empty. The caller holds r.mu.
func (r *rooms) pruneLocked() {
	for room, m := range r.members {
		for c := range m {
			if c.State().IsTerminal() {
				delete(m, c)
			}
		}
		if len(m) == 0 {
			r.releaseLocked(room)
		}
	}
}

// releaseLocked closes room's relay on this node. The caller holds r.mu.
func (r *rooms) releaseLocked(room string) {
	delete(r.members, room)
	if relay, ok := r.relays.Lookup(wsmanager.UserContext{UserID: room}); ok {
		_ = relay.Close(1000, "room empty")
	}
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
