package main

import (
	"sync"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// idleThreads keeps each user at most one Manager without connections on
// this node: the room the user left last. wsmanager counts a user's idle
// Managers against MaxManagersPerUser until its janitor removes them,
// IdleTimeout after their last connection left, so a user who visits room
// after room would otherwise be refused new rooms; and a user's direct
// messages are kept only while the user has a Manager here, so the last
// room left stays, for a tab that reconnects with its position. It is safe
// for concurrent use.
type idleThreads struct {
	f   *wsmanager.Factory
	ttl time.Duration // the factory's IdleTimeout: an entry older than it names a Manager the janitor may have removed

	mu   sync.Mutex
	last map[string]idleThread // user → the room they left last
}

// idleThread is the room a user left last, and when.
type idleThread struct {
	room string
	at   time.Time
}

// pruneEach is how many entries left looks at for staleness on each call,
// so the map is bounded by the users who left within the TTL, not by every
// user ever seen.
const pruneEach = 2

// left is the factory's OnDisconnect step: when c was the last connection
// of its Manager, the Manager becomes its user's idle one, and the user's
// previous idle Manager, if it still has no connection, is closed.
func (t *idleThreads) left(c *wsmanager.Connection) {
	uc := c.User()
	if m, ok := t.f.Lookup(wsmanager.UserContext{UserID: uc.UserID, ThreadID: uc.ThreadID}); !ok || len(m.Connections()) > 0 {
		return
	}
	now := time.Now()
	t.mu.Lock()
	if t.last == nil {
		t.last = map[string]idleThread{}
	}
	prev, had := t.last[uc.UserID]
	t.last[uc.UserID] = idleThread{room: uc.ThreadID, at: now}
	n := 0
	for user, e := range t.last {
		if n == pruneEach {
			break
		}
		n++
		if now.Sub(e.at) >= t.ttl {
			delete(t.last, user)
		}
	}
	t.mu.Unlock()
	if !had || prev.room == uc.ThreadID {
		return
	}
	// A connection that registers between the check and the Close is
	// closed with 1001 and reconnects; wsmanager offers no
	// close-if-still-idle.
	if m, ok := t.f.Lookup(wsmanager.UserContext{UserID: uc.UserID, ThreadID: prev.room}); ok && len(m.Connections()) == 0 {
		_ = m.Close(1001, "left")
	}
}

// holds reports whether user has, as far as the chat knows, a Manager
// without connections on this node: one that keeps their direct messages.
func (t *idleThreads) holds(user string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.last[user]
	return ok && time.Since(e.at) < t.ttl
}
