package wsmanager

// queue is one connection's messages waiting for the transport, oldest
// first, bounded by a number of messages and a number of bytes: each
// message's payload and its slotCost. A slot is freed for each message
// taken out, which is when the writer hands it to the transport.
//
// The byte bound applies to everything waiting, except that an empty queue
// accepts any one message, so a message larger than the bound is written
// alone instead of refused forever.
//
// A queue is not safe for concurrent use; a Connection guards its queue with
// its mutex. The zero value is not usable: set maxLen and maxBytes.
type queue struct {
	maxLen   int
	maxBytes int

	buf   [][]byte // a ring; len(buf) is 0 or a power of two
	head  int      // index of the oldest message
	n     int      // messages waiting
	bytes int      // their cost: payload bytes plus slotCost each

	// extra and extraBytes count the messages at the front of the queue
	// that pushExtra put there beyond the bounds: they take no room from
	// the messages offered after them.
	extra      int
	extraBytes int
}

// slotCost is what a queued message costs beyond its payload, in bytes,
// as QueueBytes counts it: its slot in the ring (a slice header). Counting
// it makes the byte bound hold for tiny messages too, so that bytes alone
// bound the default queue.
const slotCost = 24

// cost is what a message of size payload bytes counts against QueueBytes.
func cost(size int) int { return size + slotCost }

// minQueueBuf is the first ring allocated, and idleQueueBuf the largest one
// kept by shrink: enough that steady traffic allocates nothing, small
// enough that an idle connection costs little.
const (
	minQueueBuf  = 4
	idleQueueBuf = 8
)

func newQueue(maxLen, maxBytes int) queue {
	return queue{maxLen: maxLen, maxBytes: maxBytes}
}

// len returns the number of messages waiting.
func (q *queue) len() int { return q.n }

// full reports whether a message of size payload bytes would exceed a
// bound.
func (q *queue) full(size int) bool {
	return exceeds(q.n-q.extra, q.bytes-q.extraBytes, size, q.maxLen, q.maxBytes)
}

// exceeds is the queue's rule: n messages that cost bytes leave no room for
// one of size payload bytes under maxLen and maxBytes. Any one message fits
// an empty queue.
func exceeds(n, bytes, size, maxLen, maxBytes int) bool {
	return n >= maxLen || n > 0 && bytes+cost(size) > maxBytes
}

// offer appends msg if it fits. With dropOldest it makes room by discarding
// the oldest messages that take room (those behind the pushExtra ones, which
// take none) and always appends msg; it returns how many it discarded.
// Otherwise a message that does not fit is refused: ok is false and the
// queue is unchanged.
func (q *queue) offer(msg []byte, dropOldest bool) (ok bool, dropped int) {
	for q.full(len(msg)) {
		if !dropOldest {
			return false, dropped
		}
		q.dropOldestBounded()
		dropped++
	}
	q.push(msg)
	return true, dropped
}

// at returns the index in buf of the i-th waiting message.
func (q *queue) at(i int) int { return (q.head + i) & (len(q.buf) - 1) }

// dropOldestBounded discards the oldest message behind the pushExtra ones.
// The caller made sure there is one: the queue is full by its bounds.
func (q *queue) dropOldestBounded() {
	if q.extra == 0 {
		q.pop()
		return
	}
	// Shift the pushExtra messages one slot towards the tail, over the
	// dropped one: a replay is short-lived, and this keeps it whole.
	dropped := q.buf[q.at(q.extra)]
	for i := q.extra; i > 0; i-- {
		q.buf[q.at(i)] = q.buf[q.at(i-1)]
	}
	q.buf[q.head] = nil
	q.head = q.at(1)
	q.n--
	q.bytes -= cost(len(dropped))
}

// pushExtra queues msg regardless of the bounds and without taking room
// from the other messages: a resuming connection's replay, which the
// history bounds. It goes behind the earlier pushExtra messages and in front
// of every other message, so that a replay is written before anything
// offered while it was being queued (a Broadcast, say).
func (q *queue) pushExtra(msg []byte) {
	q.push(msg)
	for i := q.n - 1; i > q.extra; i-- {
		q.buf[q.at(i)] = q.buf[q.at(i-1)]
	}
	q.buf[q.at(q.extra)] = msg
	q.extra++
	q.extraBytes += cost(len(msg))
}

// push appends msg regardless of the bounds.
func (q *queue) push(msg []byte) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = msg
	q.n++
	q.bytes += cost(len(msg))
}

func (q *queue) grow() {
	size := max(2*len(q.buf), minQueueBuf)
	buf := make([][]byte, size)
	q.copyTo(buf)
	q.buf, q.head = buf, 0
}

// copyTo copies the waiting messages, oldest first, to the start of dst.
func (q *queue) copyTo(dst [][]byte) {
	if q.n == 0 {
		return
	}
	end := q.head + q.n
	if end <= len(q.buf) {
		copy(dst, q.buf[q.head:end])
		return
	}
	k := copy(dst, q.buf[q.head:])
	copy(dst[k:], q.buf[:end-len(q.buf)])
}

// pop removes and returns the oldest message; nil if none waits.
func (q *queue) pop() []byte {
	if q.n == 0 {
		return nil
	}
	msg := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.bytes -= cost(len(msg))
	if q.extra > 0 {
		q.extra--
		q.extraBytes -= cost(len(msg))
	}
	return msg
}

// popN appends up to max of the oldest messages to dst, removing them from
// the queue, and returns dst. It moves them in at most two copies, so a
// writer taking a long backlog holds the connection's lock briefly.
func (q *queue) popN(dst [][]byte, max int) [][]byte {
	k := min(max, q.n)
	if k == 0 {
		return dst
	}
	start := len(dst)
	first := q.buf[q.head:min(q.head+k, len(q.buf))]
	second := q.buf[:k-len(first)]
	dst = append(dst, first...)
	dst = append(dst, second...)
	clear(first)
	clear(second)
	taken := dst[start:]
	bytes := 0
	for _, m := range taken {
		bytes += cost(len(m))
	}
	if x := min(q.extra, k); x > 0 {
		extraBytes := 0
		for _, m := range taken[:x] {
			extraBytes += cost(len(m))
		}
		q.extra -= x
		q.extraBytes -= extraBytes
	}
	q.head = (q.head + k) & (len(q.buf) - 1)
	q.n -= k
	q.bytes -= bytes
	return dst
}

// clear removes every waiting message and returns how many there were.
func (q *queue) clear() int {
	n := q.n
	for q.n > 0 {
		q.pop()
	}
	return n
}

// shrink releases a large ring once the queue is empty, keeping a small one.
func (q *queue) shrink() {
	if q.n == 0 && len(q.buf) > idleQueueBuf {
		q.buf, q.head = nil, 0
	}
}
