package wsadapt

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestWriteLock(t *testing.T) {
	t.Parallel()
	soon := time.Now().Add(time.Minute)
	newLock := func() (*WriteLock, *socket) {
		var s socket
		return NewWriteLock(NewWriteDeadline(s.set), "test", errTestAborted), &s
	}
	t.Run("a write bounded by its deadline", func(t *testing.T) {
		t.Parallel()
		l, s := newLock()
		if err := l.Lock(soon); err != nil {
			t.Fatal(err)
		}
		defer l.Unlock()
		if err := l.SetDeadline(soon); err != nil || !s.last().Equal(soon) {
			t.Errorf("SetDeadline = %v, socket %v; want nil, %v", err, s.last(), soon)
		}
		if err := l.Broken(); err != nil {
			t.Errorf("Broken before any failure = %v", err)
		}
	})
	t.Run("a failure is kept", func(t *testing.T) {
		t.Parallel()
		l, _ := newLock()
		err := l.Fail(os.ErrDeadlineExceeded)
		if !errors.Is(err, os.ErrDeadlineExceeded) || err.Error() != "test: write: i/o timeout" {
			t.Errorf("Fail = %q, want the adapter's write error wrapping os.ErrDeadlineExceeded", err)
		}
		if err := l.Broken(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Broken = %v, want it to wrap the failed write's error", err)
		}
	})
	t.Run("after Abort every error is the adapter's ErrAborted", func(t *testing.T) {
		t.Parallel()
		l, s := newLock()
		_ = l.Fail(errors.New("reset"))
		l.Abort()
		if !l.Aborted() || !s.last().Equal(LongAgo()) {
			t.Errorf("Aborted = %v, socket deadline %v; want true, LongAgo", l.Aborted(), s.last())
		}
		for name, err := range map[string]error{
			"Lock":        l.Lock(soon),
			"SetDeadline": l.SetDeadline(soon),
			"Broken":      l.Broken(),
			"Err":         l.Err(errors.New("reset")),
		} {
			if err != errTestAborted {
				t.Errorf("%s = %v, want the adapter's ErrAborted", name, err)
			}
		}
	})
}
