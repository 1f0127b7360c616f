package wsmanager

import (
	"context"
	"fmt"
	"sync"
)

// interestSet keeps a Router's or LogRouter's Interest equal to the users
// this node holds: a user is added before the first connection of theirs
// registers, and removed once the user has no Manager and no registration
// is under way. Add and Remove for one user are serialized by that user's
// entry, and every decision to remove is taken from the registry as it is
// then, so that a registration racing the janitor never ends up
// registered without the subscription.
type interestSet struct {
	f  *Factory
	in Interest

	// life is held for reading around every Add and Remove and for
	// writing by close, so that none runs after the Interest is closed,
	// as Interest's contract promises.
	life   sync.RWMutex
	closed bool

	mu    sync.Mutex
	users map[string]*userInterest
}

// userInterest is one user's entry. refs counts the goroutines holding it
// (guarded by the set's mu); added is guarded by its own mu, which is held
// across the broker's Add or Remove.
type userInterest struct {
	mu    sync.Mutex
	refs  int
	added bool
}

func newInterestSet(f *Factory, in Interest) *interestSet {
	return &interestSet{f: f, in: in, users: make(map[string]*userInterest)}
}

// acquire returns userID's entry, creating it, with one more reference.
func (s *interestSet) acquire(userID string) *userInterest {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[userID]
	if e == nil {
		e = &userInterest{}
		s.users[userID] = e
	}
	e.refs++
	return e
}

// drop gives back a reference to e, deleting the entry when nobody holds it
// and the user is not subscribed.
func (s *interestSet) drop(userID string, e *userInterest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.refs--
	if e.refs == 0 && !e.added && s.users[userID] == e {
		delete(s.users, userID)
	}
}

// busy reports whether anyone but the caller holds e.
func (s *interestSet) busy(e *userInterest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.refs > 1
}

// ensure subscribes to userID's messages unless it already is, and returns
// a release function the caller calls once the connection it is
// registering is registered (or has failed to be): until then the user is
// not removed. A failed Add is returned wrapping ErrBroker.
func (s *interestSet) ensure(ctx context.Context, userID string) (release func(), err error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	e := s.acquire(userID)
	e.mu.Lock()
	if !e.added {
		if err := s.in.Add(ctx, userID); err != nil {
			e.mu.Unlock()
			s.drop(userID, e)
			s.f.stats.brokerErrors.Add(1)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: subscribe to a user: %w", ErrBroker, err)
		}
		e.added = true
	}
	e.mu.Unlock()
	return func() {
		s.drop(userID, e)
		s.settle(userID)
	}, nil
}

// settle removes userID from the Interest if it is subscribed, the node
// holds no Manager of theirs, and no registration for them is under way.
// The registry calls it after removing a user's last Manager.
func (s *interestSet) settle(userID string) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return
	}
	e := s.acquire(userID)
	defer s.drop(userID, e)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.added || s.busy(e) || s.f.holdsUser(userID) {
		return
	}
	e.added = false
	if err := s.in.Remove(userID); err != nil {
		s.f.stats.brokerErrors.Add(1)
		s.f.log.Warn("wsmanager: broker unsubscribe from a user failed", "err", err)
	}
}

// close ends the Interest, once, at Factory.Close, after any Add or
// Remove under way.
func (s *interestSet) close() error {
	s.life.Lock()
	defer s.life.Unlock()
	s.closed = true
	return s.in.Close()
}
