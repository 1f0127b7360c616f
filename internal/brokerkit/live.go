package brokerkit

import "sync"

// Stopper is a subscription, or the part of one, that Live stops.
type Stopper interface{ Stop() }

// Live are a broker's live subscriptions, so that closing the broker ends
// the subscriptions nobody unsubscribed. The zero value is an empty, open
// set; it is safe for concurrent use.
type Live struct {
	mu     sync.Mutex
	live   map[Stopper]struct{}
	closed bool
}

// Add records in; it reports false, and records nothing, after StopAll.
func (s *Live) Add(in Stopper) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.live == nil {
		s.live = map[Stopper]struct{}{}
	}
	s.live[in] = struct{}{}
	return true
}

// Remove forgets in.
func (s *Live) Remove(in Stopper) {
	s.mu.Lock()
	delete(s.live, in)
	s.mu.Unlock()
}

// StopAll stops every recorded Stopper and makes Add refuse new ones.
func (s *Live) StopAll() {
	s.mu.Lock()
	s.closed = true
	live := s.live
	s.live = nil
	s.mu.Unlock()
	for in := range live {
		in.Stop()
	}
}

// Unsubscribe returns the unsubscribe function of a subscription recorded
// with Add: it forgets in and stops it. It may be called more than once if
// in's Stop may.
func (s *Live) Unsubscribe(in Stopper) func() error {
	return func() error {
		s.Remove(in)
		in.Stop()
		return nil
	}
}
