package natsbroker

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

// userSubs are the subscriptions of an Interest: one NATS core subscription
// per user added, to that user's own subject, all feeding one channel, so
// that an Interest holds the same goroutines however many users it has.
// Its methods are safe for concurrent use.
type userSubs struct {
	nc      *nats.Conn
	subject func(userID string) string
	ch      chan *nats.Msg // what the subscriptions receive; the client drops past its capacity
	dropped *atomic.Uint64 // counts, when a subscription ends, what the client dropped; nil: not counted

	mu     sync.Mutex
	subs   map[string]*nats.Subscription
	closed bool
}

func newUserSubs(nc *nats.Conn, subject func(string) string, capacity int, dropped *atomic.Uint64) *userSubs {
	return &userSubs{nc: nc, subject: subject, ch: make(chan *nats.Msg, capacity), dropped: dropped, subs: map[string]*nats.Subscription{}}
}

// unsubscribe ends sub, counting what the client dropped for it.
func (s *userSubs) unsubscribe(sub *nats.Subscription) error {
	if s.dropped != nil {
		if n, err := sub.Dropped(); err == nil && n > 0 {
			s.dropped.Add(uint64(n))
		}
	}
	return sub.Unsubscribe()
}

// add subscribes to userID's subject and returns once the server has the
// subscription, or ctx ends, or the connection is down: then the
// subscription is withdrawn and add returns why. Adding a user already
// added does nothing.
func (s *userSubs) add(ctx context.Context, userID string) error {
	if !brokerkit.ValidUser(userID) {
		return ErrInvalidUser
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if _, ok := s.subs[userID]; ok {
		s.mu.Unlock()
		return nil
	}
	sub, err := s.nc.ChanSubscribe(s.subject(userID), s.ch)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("natsbroker: add: %w", err)
	}
	s.subs[userID] = sub
	s.mu.Unlock()
	if err := flush(ctx, s.nc); err != nil {
		s.withdraw(userID, sub)
		return err
	}
	return nil
}

// flush returns once the server has processed what nc sent before, or
// ctx ends, or the connection is down.
func flush(ctx context.Context, nc *nats.Conn) error {
	if !nc.IsConnected() {
		return ErrDisconnected
	}
	bounded := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		bounded, cancel = context.WithTimeout(ctx, setupTimeout)
		defer cancel()
	}
	err := nc.FlushWithContext(bounded)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case !nc.IsConnected():
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return fmt.Errorf("natsbroker: add: %w", err)
}

// withdraw unsubscribes sub if it is still userID's.
func (s *userSubs) withdraw(userID string, sub *nats.Subscription) {
	s.mu.Lock()
	if s.subs[userID] == sub {
		delete(s.subs, userID)
	}
	s.mu.Unlock()
	_ = s.unsubscribe(sub)
}

// remove unsubscribes from userID's subject, without waiting for the
// server. Removing a user not added does nothing.
func (s *userSubs) remove(userID string) error {
	s.mu.Lock()
	sub, ok := s.subs[userID]
	delete(s.subs, userID)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if err := s.unsubscribe(sub); err != nil && s.nc.Status() != nats.CLOSED {
		return fmt.Errorf("natsbroker: remove: %w", err)
	}
	return nil
}

// close unsubscribes from every user and makes add fail with ErrClosed. It
// is idempotent.
func (s *userSubs) close() {
	s.mu.Lock()
	s.closed = true
	subs := s.subs
	s.subs = map[string]*nats.Subscription{}
	s.mu.Unlock()
	for _, sub := range subs {
		_ = s.unsubscribe(sub)
	}
}
