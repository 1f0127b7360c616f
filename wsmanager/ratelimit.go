package wsmanager

import (
	"fmt"
	"math"
	"time"
)

// RateLimit bounds the messages a client sends on one connection: a token
// bucket that holds Burst messages and refills at Rate a second. It is a
// plain value, safe to copy; the zero value sets no limit.
type RateLimit struct {
	// Rate is how many messages a second a connection may send, on
	// average. 0: no limit.
	Rate float64
	// Burst is how many it may send at once. Defaults to Rate, rounded
	// up, and at least 1.
	Burst int
	// Drop, when set, drops a message over the limit before the Handler
	// sees it, and counts it in Stats.MessagesRateLimited, instead of
	// closing the connection with 1008 (policy violation) and the reason
	// "rate limited", which is the default: a client that floods is
	// usually broken or hostile, and a dropped message is one its user
	// never learns was lost.
	Drop bool
}

func (r RateLimit) withDefaults() (RateLimit, error) {
	switch {
	case r.Rate < 0 || math.IsNaN(r.Rate) || math.IsInf(r.Rate, 0):
		return r, fmt.Errorf("%w: ReadRate.Rate %v is negative or not a number", ErrInvalidOptions, r.Rate)
	case r.Burst < 0:
		return r, fmt.Errorf("%w: ReadRate.Burst %d is negative", ErrInvalidOptions, r.Burst)
	}
	if r.Rate > 0 && r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(r.Rate)))
	}
	return r, nil
}

// bucket is one connection's token bucket, used by whatever reads the
// connection, one message at a time. A message costs one clock read.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow reports whether one more message fits the limit at now.
func (b *bucket) allow(r *RateLimit, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = float64(r.Burst)
	} else {
		b.tokens = min(float64(r.Burst), b.tokens+now.Sub(b.last).Seconds()*r.Rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
