package nbiows

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
)

// Abort moves the write deadline into the past for good: the
// write under way, if any, returns at once with ErrAborted, as does every
// later one, and CloseWithin then closes the socket without a close frame.
// Reading goes on until CloseWithin. It is idempotent and may be called
// from any goroutine.
func (c *Conn) Abort() { c.w.Abort() }

// CloseWithin closes the connection with code and reason: it writes the
// close frame and waits for the peer's answer, which the engine reads,
// giving up on both at deadline, and closes the socket, which ends
// reading (with ErrClosed, unless it ended before). A reason longer than
// 123 bytes is shortened.
//
// It closes the socket at once, without a close frame, when deadline has
// passed, when Abort was called, or when an earlier write failed (it timed
// out: the peer is not reading), so it never waits on a peer known to be
// stuck. After reading sent the peer a close frame for a protocol error,
// it waits at most a second for the peer's, while the engine discards up
// to 16 MiB the peer still sends, so that a peer that finishes sending a
// message over the read limit, and then reads, sees the close frame
// rather than a reset. Closing a closed connection returns ErrClosed and
// changes nothing. A code that may not be sent closes the socket without a
// handshake and returns an error wrapping ErrCloseCode.
func (c *Conn) CloseWithin(code int, reason string, deadline time.Time) error {
	if c.shut.Swap(true) {
		return ErrClosed
	}
	c.stopKeepalive()
	if !wsadapt.ValidCode(code) {
		_ = c.closeSocket()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	wait, err := c.w.WriteClose(code, reason, deadline)
	if err != nil {
		_ = c.closeSocket()
		return err
	}
	if wait {
		c.awaitPeer(deadline)
	}
	return c.closeSocket()
}

// Close is CloseWithin with a deadline five seconds away.
func (c *Conn) Close(code int, reason string) error {
	return c.CloseWithin(code, reason, time.Now().Add(wsadapt.CloseTimeout))
}

// awaitPeer waits until waiting for the peer is pointless (its close frame
// arrived, reading ended, or the parser stopped), the deadline passes, or,
// after a protocol error, drainTime has passed since.
func (c *Conn) awaitPeer(deadline time.Time) {
	if at := c.failedSince(); !at.IsZero() && at.Add(drainTime).Before(deadline) {
		deadline = at.Add(drainTime)
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.peerDone:
	case <-t.C:
	}
}

// closeSocket closes the socket, once, which ends reading.
func (c *Conn) closeSocket() error {
	var err error
	c.closeOnce.Do(func() {
		c.u.forget(c)
		c.engineClosed()
		if nc := c.nc.Load(); nc != nil {
			if e := nc.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
				err = fmt.Errorf("nbiows: close: %w", e)
			}
		}
	})
	return err
}

// shutdown closes the socket for the Upgrader's Close: reading ends with
// ErrUpgraderClosed.
func (c *Conn) shutdown() {
	c.gone.Store(true)
	c.stopKeepalive()
	_ = c.closeSocket()
}
