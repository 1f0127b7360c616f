package nbiows

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// engineSocket is a connection's socket as its FrameWriter writes to it:
// through the engine, which writes what the socket takes at once and keeps
// the rest until the socket is writable again. Its Write returns once the
// socket took all of b, so that nothing the connection writes waits in
// the engine past the write's deadline.
type engineSocket struct{ c *Conn }

// Write hands b to the engine and waits until the socket took all of it,
// the write deadline passed (an error wrapping os.ErrDeadlineExceeded) or
// the engine closed the socket (net.ErrClosed). The engine keeps what the
// socket cannot take at once in a copy of its own, so b may be reused once
// Write returns. One buffer at a time: the engine's write of several keeps
// only the rest of the first when the socket takes part of them.
func (s *engineSocket) Write(b []byte) (int, error) {
	c := s.c
	if d := c.u.direct; d != nil {
		n, err := d.Write(b)
		c.wrote(max(n, 0))
		return n, err
	}
	nc := c.nc.Load()
	if nc == nil {
		return 0, net.ErrClosed
	}
	c.qmu.Lock()
	c.handed += int64(len(b))
	c.qmu.Unlock()
	if _, err := nc.Write(b); err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR) {
		return 0, err
	}
	if err := c.awaitWritten(); err != nil {
		return 0, err
	}
	return len(b), nil
}

// SetWriteDeadline moves the deadline of the write under way, as a
// socket's does: the connection's wsadapt.WriteDeadline calls it.
func (s *engineSocket) SetWriteDeadline(t time.Time) error {
	c := s.c
	c.qmu.Lock()
	c.wdl = t
	c.wakeLocked()
	c.qmu.Unlock()
	return nil
}

// wrote counts n bytes the engine reported written, and wakes the write
// waiting for them once all it was handed is written.
func (c *Conn) wrote(n int) {
	c.qmu.Lock()
	c.written += int64(n)
	if c.written >= c.handed {
		c.wakeLocked()
	}
	c.qmu.Unlock()
}

// wakeLocked wakes the waiting write, if any; qmu is held.
func (c *Conn) wakeLocked() {
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
}

// engineClosed records that the socket is closed, which ends any wait for
// what the engine held.
func (c *Conn) engineClosed() {
	c.qmu.Lock()
	c.unwritable = true
	c.wakeLocked()
	c.qmu.Unlock()
}

// awaitWritten waits until the engine wrote all it was handed, and returns
// an error wrapping os.ErrDeadlineExceeded once the write deadline passed
// first, or net.ErrClosed once the socket was closed.
func (c *Conn) awaitWritten() error {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		c.qmu.Lock()
		if c.written >= c.handed {
			c.qmu.Unlock()
			return nil
		}
		if c.unwritable {
			c.qmu.Unlock()
			return net.ErrClosed
		}
		deadline := c.wdl
		if c.wake == nil {
			c.wake = make(chan struct{})
		}
		wake := c.wake
		c.qmu.Unlock()
		var expired <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return os.ErrDeadlineExceeded
			}
			if t == nil {
				t = time.NewTimer(d)
			} else {
				t.Reset(d)
			}
			expired = t.C
		}
		select {
		case <-wake:
		case <-expired:
		}
	}
}
