package auth

import (
	"sync"
	"time"
)

// cacheKey is a keyed SHA-256 of a token: the raw token is never stored.
type cacheKey [32]byte

// maxShards spreads a large cache over independent locks so that concurrent
// hits on different tokens do not queue on one mutex. A cache smaller than
// minShardedSize has one shard, so that its LRU order is exact.
const (
	maxShards      = 16
	minShardedSize = 1024
)

type cacheEntry struct {
	key        cacheKey
	id         Identity
	err        error       // a cached rejection; nil for an identity
	timer      *time.Timer // removes the entry when it expires
	prev, next *cacheEntry
}

// cache is a bounded token cache with least-recently-used eviction per
// shard. Entries expire by timer, so a hit reads no clock.
type cache struct {
	shards []shard
}

type shard struct {
	mu    sync.Mutex
	max   int
	items map[cacheKey]*cacheEntry
	head  cacheEntry // sentinel: head.next is the most recently used
	hits  uint64
}

func newCache(size int) *cache {
	n := 1
	if size >= minShardedSize {
		n = maxShards
	}
	c := &cache{shards: make([]shard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = size / n
		if i < size%n {
			s.max++ // the shards hold exactly size entries in all
		}
		s.items = make(map[cacheKey]*cacheEntry)
		s.head.next, s.head.prev = &s.head, &s.head
	}
	return c
}

func (c *cache) shard(k cacheKey) *shard { return &c.shards[int(k[0])%len(c.shards)] }

// get returns the entry's identity or cached rejection, marking it used.
func (c *cache) get(k cacheKey) (id Identity, err error, ok bool) {
	s := c.shard(k)
	s.mu.Lock()
	e, ok := s.items[k]
	if ok {
		s.hits++
		s.unlink(e)
		s.pushFront(e)
		id, err = e.id, e.err
	}
	s.mu.Unlock()
	return id, err, ok
}

// put stores an identity or a rejection for ttl.
func (c *cache) put(k cacheKey, id Identity, err error, ttl time.Duration) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[k]; ok {
		s.remove(old)
	}
	for len(s.items) >= s.max {
		s.remove(s.head.prev)
	}
	e := &cacheEntry{key: k, id: id, err: err}
	e.timer = time.AfterFunc(ttl, func() {
		s.mu.Lock()
		if s.items[k] == e {
			s.remove(e)
		}
		s.mu.Unlock()
	})
	s.items[k] = e
	s.pushFront(e)
}

// clear removes every entry and stops its timer.
func (c *cache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for _, e := range s.items {
			s.remove(e)
		}
		s.mu.Unlock()
	}
}

// stats returns the number of hits and of live entries.
func (c *cache) stats() (hits uint64, entries int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		hits += s.hits
		entries += len(s.items)
		s.mu.Unlock()
	}
	return hits, entries
}

func (s *shard) remove(e *cacheEntry) {
	e.timer.Stop()
	s.unlink(e)
	delete(s.items, e.key)
}

func (s *shard) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (s *shard) pushFront(e *cacheEntry) {
	e.prev, e.next = &s.head, s.head.next
	s.head.next.prev = e
	s.head.next = e
}
