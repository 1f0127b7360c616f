package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxShards spreads a large cache over independent locks so that concurrent
// hits on different tokens do not queue on one mutex. A cache for fewer
// than minShardedSize identities has one shard, so that its LRU order is
// exact.
const (
	maxShards      = 16
	minShardedSize = 1024
)

// The two budgets of a shard: identities and rejections are bounded and
// evicted separately, so that rejected tokens, which anyone can make up,
// never push out an identity.
const (
	identities = iota
	rejections
)

type cacheEntry struct {
	key        cacheKey
	id         Identity
	err        error       // a cached rejection; nil for an identity
	timer      *time.Timer // removes the entry when it expires
	prev, next *cacheEntry
}

func (e *cacheEntry) budget() int {
	if e.err != nil {
		return rejections
	}
	return identities
}

// cache is a bounded token cache with least-recently-used eviction per
// shard and per budget. Entries expire by timer, so a hit reads no clock.
type cache struct {
	shards []shard
}

type shard struct {
	mu    sync.Mutex
	items map[cacheKey]*cacheEntry // both budgets
	lists [2]lru
	// hits, like each lru's len, is written under mu and read without it,
	// so that Stats never waits for a cache hit nor makes one wait.
	hits atomic.Uint64
}

// lru is one budget's entries, most recently used first.
type lru struct {
	head cacheEntry   // sentinel: head.next is the most recently used
	len  atomic.Int64 // written under the shard's mu
	max  int
}

func newCache(size, negativeSize int) *cache {
	n := 1
	if size >= minShardedSize {
		n = maxShards
	}
	c := &cache{shards: make([]shard, n)}
	for i := range c.shards {
		s := &c.shards[i]
		s.items = make(map[cacheKey]*cacheEntry)
		for b, total := range [2]int{identities: size, rejections: negativeSize} {
			l := &s.lists[b]
			l.head.next, l.head.prev = &l.head, &l.head
			l.max = total / n
			if i < total%n {
				l.max++ // the shards hold exactly total entries in all
			}
		}
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
		s.hits.Add(1)
		l := &s.lists[e.budget()]
		l.unlink(e)
		l.pushFront(e)
		id, err = e.id, e.err
	}
	s.mu.Unlock()
	return id, err, ok
}

// put stores an identity (err == nil) or a rejection for ttl, evicting the
// least recently used entry of the same budget when it is full.
func (c *cache) put(k cacheKey, id Identity, err error, ttl time.Duration) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[k]; ok {
		s.remove(old)
	}
	e := &cacheEntry{key: k, id: id, err: err}
	l := &s.lists[e.budget()]
	if l.max == 0 {
		return
	}
	for int(l.len.Load()) >= l.max {
		s.remove(l.head.prev)
	}
	e.timer = time.AfterFunc(ttl, func() {
		s.mu.Lock()
		if s.items[k] == e {
			s.remove(e)
		}
		s.mu.Unlock()
	})
	s.items[k] = e
	l.pushFront(e)
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

// stats returns the number of hits and of live entries of each budget. It
// takes no lock.
func (c *cache) stats() (hits uint64, ids, rejected int) {
	for i := range c.shards {
		s := &c.shards[i]
		hits += s.hits.Load()
		ids += int(s.lists[identities].len.Load())
		rejected += int(s.lists[rejections].len.Load())
	}
	return hits, ids, rejected
}

func (s *shard) remove(e *cacheEntry) {
	e.timer.Stop()
	s.lists[e.budget()].unlink(e)
	delete(s.items, e.key)
}

func (l *lru) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	l.len.Add(-1)
}

func (l *lru) pushFront(e *cacheEntry) {
	e.prev, e.next = &l.head, l.head.next
	l.head.next.prev = e
	l.head.next = e
	l.len.Add(1)
}
