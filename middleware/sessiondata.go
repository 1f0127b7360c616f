package middleware

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// SessionData is the data of one request's session: string keys and values.
// Changes are saved in the response's cookie when the response header is
// written; a change made after that is not saved and is logged.
//
// A SessionData is safe for concurrent use by the goroutines of one request.
// Its zero value is not usable: get it from SessionFrom.
type SessionData struct {
	m *sessionMW

	mu         sync.Mutex
	values     map[string]string
	changed    bool // the cookie must be re-issued: values changed, or Renew
	fromCookie bool // a valid cookie came with the request
	unreadable bool // a cookie came with the request and did not open
	written    bool // the response header is out
	sealed     string
	sealedOK   bool // sealed holds the current values
}

// Get returns the value of key, or "" if it is not set.
func (s *SessionData) Get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// Lookup returns the value of key and whether it is set.
func (s *SessionData) Lookup(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, ok
}

// Keys returns the keys set, sorted.
func (s *SessionData) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.values))
}

// Set sets key to value.
func (s *SessionData) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.values[key]; ok && old == value {
		return
	}
	if s.values == nil {
		s.values = make(map[string]string)
	}
	s.values[key] = value
	s.touchLocked()
}

// Delete removes key.
func (s *SessionData) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; !ok {
		return
	}
	delete(s.values, key)
	s.touchLocked()
}

// Clear removes every key; the cookie is deleted.
func (s *SessionData) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) == 0 {
		return
	}
	clear(s.values)
	s.touchLocked()
}

// Renew re-issues the cookie with a new issue time and a new nonce, even if
// the data did not change: call it when privileges change (log in, log out,
// role change) so the session's lifetime restarts from that moment and the
// old cookie value is replaced.
func (s *SessionData) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touchLocked()
}

// Save seals the session now and returns an error wrapping ErrTooLarge when
// it no longer fits in one cookie, so a handler can react before the
// response starts. Calling it is optional: the middleware saves the session
// when the response header is written, and logs that error then.
func (s *SessionData) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) == 0 {
		return nil
	}
	return s.sealLocked(time.Now())
}

func (s *SessionData) touchLocked() {
	s.changed = true
	s.sealedOK = false
	if s.written {
		s.m.logger.Warn("middleware: session changed after the response started; the change is not saved", "cookie", s.m.name)
	}
}

func (s *SessionData) sealLocked(now time.Time) error {
	if s.sealedOK {
		return nil
	}
	v, err := s.m.codec.seal(s.values, now)
	if err != nil {
		return err
	}
	s.sealed, s.sealedOK = v, true
	return nil
}

// writeCookie runs once, just before the response header is written.
func (s *SessionData) writeCookie(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = true
	m := s.m
	c := &http.Cookie{Name: m.name, Path: m.path, HttpOnly: true, Secure: m.secure, SameSite: m.sameSite}
	switch {
	case len(s.values) == 0 && (s.fromCookie && s.changed || s.unreadable):
		c.MaxAge = -1 // delete: cleared, or unreadable and left empty
	case len(s.values) == 0 || !s.changed:
		return
	default:
		if err := s.sealLocked(time.Now()); err != nil {
			m.logger.Error("middleware: session not saved", "cookie", m.name, "error", err)
			return
		}
		c.Value = s.sealed
		c.MaxAge = int(m.maxAge / time.Second)
	}
	w.Header().Add("Set-Cookie", c.String())
}
