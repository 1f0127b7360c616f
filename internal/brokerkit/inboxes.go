package brokerkit

import "sync"

// Inboxes are a broker's live subscriptions' Inboxes, so that closing the
// broker ends the subscriptions nobody unsubscribed. The zero value is an
// empty, open set; it is safe for concurrent use.
type Inboxes struct {
	mu     sync.Mutex
	live   map[*Inbox]struct{}
	closed bool
}

// Add records in; it reports false, and records nothing, after StopAll.
func (s *Inboxes) Add(in *Inbox) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.live == nil {
		s.live = map[*Inbox]struct{}{}
	}
	s.live[in] = struct{}{}
	return true
}

// Remove forgets in.
func (s *Inboxes) Remove(in *Inbox) {
	s.mu.Lock()
	delete(s.live, in)
	s.mu.Unlock()
}

// StopAll stops every recorded Inbox and makes Add refuse new ones.
func (s *Inboxes) StopAll() {
	s.mu.Lock()
	s.closed = true
	live := s.live
	s.live = nil
	s.mu.Unlock()
	for in := range live {
		in.Stop()
	}
}
