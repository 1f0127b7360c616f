package wsadapt

import (
	"errors"
	"testing"
	"time"
)

// socket records the write deadlines a WriteDeadline gives it.
type socket struct{ got []time.Time }

func (s *socket) set(t time.Time) error {
	s.got = append(s.got, t)
	return nil
}

func (s *socket) last() time.Time { return s.got[len(s.got)-1] }

func TestWriteDeadline(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }

	t.Run("a write gets its own deadline", func(t *testing.T) {
		t.Parallel()
		var s socket
		w := NewWriteDeadline(s.set)
		if err := w.Set(at(10)); err != nil || !s.last().Equal(at(10)) {
			t.Fatalf("Set = %v, socket %v; want %v", err, s.last(), at(10))
		}
	})
	t.Run("a waiter cuts the write under way short", func(t *testing.T) {
		t.Parallel()
		var s socket
		w := NewWriteDeadline(s.set)
		_ = w.Set(at(30)) // a ping with a long deadline
		if err := w.Wait(at(10)); err != nil {
			t.Fatal(err)
		}
		if !s.last().Equal(at(10)) {
			t.Errorf("socket deadline %v while a write due at %v waits, want that", s.last(), at(10))
		}
		w.Acquired()
		_ = w.Set(at(10))
		if err := w.Wait(at(20)); err != nil {
			t.Fatal(err)
		}
		if !s.last().Equal(at(10)) {
			t.Errorf("a later waiter moved the deadline to %v", s.last())
		}
	})
	t.Run("the holder is bounded by who waits", func(t *testing.T) {
		t.Parallel()
		var s socket
		w := NewWriteDeadline(s.set)
		_ = w.Wait(at(5)) // waits before the holder sets its deadline
		_ = w.Set(at(30))
		if !s.last().Equal(at(5)) {
			t.Errorf("socket deadline %v, want the waiter's %v", s.last(), at(5))
		}
		w.Acquired()
		_ = w.Set(at(30))
		if !s.last().Equal(at(30)) {
			t.Errorf("socket deadline %v once no one waits, want %v", s.last(), at(30))
		}
	})
	t.Run("no deadline", func(t *testing.T) {
		t.Parallel()
		var s socket
		w := NewWriteDeadline(s.set)
		_ = w.Set(time.Time{})
		_ = w.Wait(time.Time{})
		if len(s.got) != 1 || !s.last().IsZero() {
			t.Errorf("socket deadlines %v, want one zero", s.got)
		}
		_ = w.Wait(at(3))
		if !s.last().Equal(at(3)) {
			t.Errorf("socket deadline %v, want %v", s.last(), at(3))
		}
	})
	t.Run("abort is for good", func(t *testing.T) {
		t.Parallel()
		var s socket
		w := NewWriteDeadline(s.set)
		_ = w.Set(at(30))
		w.Abort()
		w.Abort()
		if !s.last().Before(base) || !w.Aborted() {
			t.Fatalf("socket deadline %v after Abort, want one long past", s.last())
		}
		if err := w.Wait(at(40)); !errors.Is(err, ErrAborted) {
			t.Errorf("Wait after Abort = %v", err)
		}
		if err := w.Set(at(40)); !errors.Is(err, ErrAborted) || !s.last().Before(base) {
			t.Errorf("Set after Abort = %v, socket %v", err, s.last())
		}
	})
}
