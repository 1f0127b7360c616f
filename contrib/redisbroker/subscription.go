package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

// idlePing is how long the subscription's connection may stay silent
// before the subscription PINGs Redis; a second silence as long ends the
// connection as dead (a peer that vanished without closing it).
const idlePing = 30 * time.Second

// subscribeTimeout bounds Subscribe's wait for Redis to confirm the
// subscription.
const subscribeTimeout = 10 * time.Second

// Subscribe delivers every message published under the prefix, by any
// node, to deliver, one at a time and in the order received, from a
// goroutine the subscription owns. It returns once Redis has confirmed the
// subscription, so that a message published right after NewFactory is not
// missed, or an error (wrapping ErrDisconnected if Redis could not be
// reached). After a lost connection the subscription is restored every
// Options.ReconnectWait until Redis answers. unsubscribe stops deliveries
// and waits for one under way to finish.
func (b *Broker) Subscribe(deliver func(userID string, msg []byte)) (unsubscribe func() error, err error) {
	if deliver == nil {
		return nil, fmt.Errorf("%w: nil deliver function", ErrInvalidOptions)
	}
	if b.closed.Load() {
		return nil, ErrClosed
	}
	if b.cluster != nil {
		return nil, fmt.Errorf("redisbroker: subscribe: %w: a Redis Cluster has no pattern subscription across its shards; use SubscribeUsers", errors.ErrUnsupported)
	}
	inbox := brokerkit.NewInbox(b.opts.PendingMessages, b.opts.PendingBytes, &b.counters, deliver)
	return b.subscribePattern(b.prefix, func(userID, payload string) { inbox.Put(userID, []byte(payload)) }, inbox.Stop)
}

// subscribePattern subscribes to every channel under prefix, passing what
// arrives to put, and returns once Redis has confirmed the subscription.
// stopDeliveries is called when the subscription ends.
func (b *Broker) subscribePattern(prefix string, put func(userID, payload string), stopDeliveries func()) (unsubscribe func() error, err error) {
	s := &subscription{
		b:              b,
		prefix:         prefix,
		pattern:        prefix + ".*",
		put:            put,
		stopDeliveries: stopDeliveries,
		stop:           make(chan struct{}),
		done:           make(chan struct{}),
	}
	first := make(chan error, 1)
	go s.run(first)
	select {
	case err = <-first:
	case <-time.After(subscribeTimeout):
		err = fmt.Errorf("%w: no subscription confirmation within %v", ErrDisconnected, subscribeTimeout)
	}
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("redisbroker: subscribe: %w", err)
	}
	if !b.live.Add(s) {
		s.Stop()
		return nil, ErrClosed
	}
	return b.live.Unsubscribe(s), nil
}

// subscription is one Subscribe (or the Log's SubscribeLog): a goroutine
// reading the pattern subscription's connection into an Inbox, whose own
// goroutine delivers.
type subscription struct {
	b              *Broker
	prefix         string
	pattern        string
	put            func(userID, payload string) // queues a message for the Inbox
	stopDeliveries func()                       // stops the Inbox

	mu      sync.Mutex
	ps      *redis.PubSub // the current connection's; nil between them
	stopped bool

	stop chan struct{}
	done chan struct{} // closed when run returns
	once sync.Once
}

// run keeps the subscription up until Stop: it subscribes, reads until the
// connection fails, waits ReconnectWait and subscribes again. The outcome
// of the first attempt goes to first.
func (s *subscription) run(first chan<- error) {
	defer close(s.done)
	ctx := context.Background()
	log := s.b.opts.Logger
	lost := false // the connection was lost and is not yet restored
	for {
		ps := s.b.single.PSubscribe(ctx)
		if !s.setPS(ps) {
			return
		}
		err := ps.PSubscribe(ctx, s.pattern)
		if err == nil {
			err = s.receive(ctx, ps, func() {
				s.b.counters.Connected.Store(true)
				if first != nil {
					first <- nil
					first = nil
				}
				if lost {
					lost = false
					s.b.counters.Reconnects.Add(1)
					log.Info("redisbroker: subscription restored", "prefix", s.b.prefix)
				}
			})
		}
		s.setPS(nil)
		_ = ps.Close()
		if s.isStopped() {
			return
		}
		if first != nil {
			first <- classify(err)
			return
		}
		s.b.counters.Connected.Store(false)
		if !lost {
			lost = true
			log.Warn("redisbroker: subscription lost its connection to Redis; retrying", "prefix", s.b.prefix, "err", classify(err), "every", s.b.opts.ReconnectWait)
		}
		t := time.NewTimer(s.b.opts.ReconnectWait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// receive reads from ps until it fails, calling subscribed when Redis
// confirms the subscription.
func (s *subscription) receive(ctx context.Context, ps *redis.PubSub, subscribed func()) error {
	pinged := false
	for {
		m, err := ps.ReceiveTimeout(ctx, idlePing)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() && !pinged {
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "psubscribe" {
				subscribed()
			}
		case *redis.Message:
			userID, ok := brokerkit.UserFromTopic(s.prefix, m.Channel)
			if !ok {
				// Counted, not logged: anyone who can publish under the
				// prefix could otherwise flood the log.
				s.b.counters.Malformed.Add(1)
				continue
			}
			s.put(userID, m.Payload)
		}
	}
}

// setPS records the current PubSub so that Stop can close it; it reports
// false, recording nothing, after Stop.
func (s *subscription) setPS(ps *redis.PubSub) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.ps = ps
	return true
}

func (s *subscription) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Stop ends the subscription: it closes the connection, which ends the
// read under way, and waits for both goroutines and a delivery under way.
// It is idempotent.
func (s *subscription) Stop() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopped = true
		ps := s.ps
		s.mu.Unlock()
		close(s.stop)
		if ps != nil {
			_ = ps.Close()
		}
	})
	<-s.done
	s.stopDeliveries()
}
