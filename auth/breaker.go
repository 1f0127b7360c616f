package auth

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// BreakerState is the state of a Unified's circuit breaker, as reported in
// Stats. Its zero value is BreakerClosed.
type BreakerState uint8

// The breaker states.
const (
	BreakerClosed   BreakerState = iota // backend calls flow
	BreakerOpen                         // backend calls are refused with ErrUnavailable
	BreakerHalfOpen                     // one probe call is in flight; others are refused
)

// MarshalText returns String, so that the state reads as text in JSON.
func (s BreakerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// String returns "closed", "open" or "half_open".
func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// breaker counts consecutive backend failures. It is not safe for concurrent
// use; Unified guards it with its mutex. state, opens and refused are also
// read without the mutex, by Unified.Stats. It reads the clock only while
// it is open.
//
// Each state change starts a new generation, and a call's result counts only
// in the generation the call started in: a slow call started before the
// breaker opened cannot close it without the probe, nor can it re-open it
// while the probe is under way.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time
	logger   *slog.Logger

	state    atomic.Uint32 // a BreakerState
	count    int           // consecutive failures while closed
	openedAt time.Time     // when it last opened
	gen      uint64        // incremented on every state change
	opens    atomic.Uint64
	refused  atomic.Uint64
}

func (b *breaker) current() BreakerState { return BreakerState(b.state.Load()) }

func (b *breaker) set(s BreakerState) { b.state.Store(uint32(s)) }

// allow reports whether a backend call may start, and the generation whose
// result it will be. In the open state, after the cooldown, it lets exactly
// one probe through and turns half-open.
func (b *breaker) allow() (gen uint64, ok bool) {
	switch b.current() {
	case BreakerClosed:
		return b.gen, true
	case BreakerOpen:
		if b.now().Sub(b.openedAt) >= b.cooldown {
			b.set(BreakerHalfOpen)
			b.gen++
			b.logger.Info("auth: circuit breaker half-open, probing the backend")
			return b.gen, true
		}
	}
	b.refused.Add(1)
	return 0, false
}

// success records a call of generation gen that the backend answered, with an
// identity or a rejection.
func (b *breaker) success(gen uint64) {
	if gen != b.gen {
		return
	}
	if b.current() == BreakerHalfOpen {
		b.set(BreakerClosed)
		b.gen++
		b.logger.Info("auth: circuit breaker closed, the backend answered")
	}
	b.count = 0
}

// failure records a call of generation gen that failed with an
// ErrUnavailable-class error.
func (b *breaker) failure(gen uint64) {
	if gen != b.gen {
		return
	}
	switch b.current() {
	case BreakerHalfOpen:
		b.open("auth: circuit breaker re-opened, the probe failed")
	case BreakerClosed:
		b.count++
		if b.count >= b.failures {
			b.open("auth: circuit breaker opened after consecutive backend failures")
		}
	}
}

func (b *breaker) open(msg string) {
	b.set(BreakerOpen)
	b.count = 0
	b.gen++
	b.openedAt = b.now()
	b.opens.Add(1)
	b.logger.Warn(msg, "failures", b.failures, "cooldown", b.cooldown)
}
