package auth

import (
	"time"
)

// cacheKey is a keyed SHA-256 of a token: the raw token is never stored.
type cacheKey [32]byte

type cacheEntry struct {
	key        cacheKey
	id         Identity
	err        error // a cached rejection; nil for an identity
	expires    time.Time
	prev, next *cacheEntry
}

// lru is a bounded map with least-recently-used eviction. It is not safe for
// concurrent use; Unified guards it with its mutex.
type lru struct {
	max   int
	items map[cacheKey]*cacheEntry
	head  cacheEntry // sentinel: head.next is the most recently used
}

func newLRU(max int) *lru {
	c := &lru{max: max, items: make(map[cacheKey]*cacheEntry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// get returns the live entry for k, marking it used; an expired entry is
// removed.
func (c *lru) get(k cacheKey, now time.Time) (*cacheEntry, bool) {
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		c.remove(e)
		return nil, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e, true
}

func (c *lru) put(k cacheKey, id Identity, err error, expires time.Time) {
	if e, ok := c.items[k]; ok {
		e.id, e.err, e.expires = id, err, expires
		c.unlink(e)
		c.pushFront(e)
		return
	}
	for len(c.items) >= c.max {
		c.remove(c.head.prev)
	}
	e := &cacheEntry{key: k, id: id, err: err, expires: expires}
	c.items[k] = e
	c.pushFront(e)
}

func (c *lru) len() int { return len(c.items) }

func (c *lru) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.items, e.key)
}

func (c *lru) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *lru) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
