package gobwasws

import (
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/wsadapt"
)

// Abort moves the socket's write deadline into the past for good: the
// write under way, if any, returns at once with ErrAborted, as does every
// later one, and CloseWithin then closes the socket without a close frame.
// It is idempotent and may be called from any goroutine.
func (c *Conn) Abort() { c.w.Abort() }

// CloseWithin closes the connection with code and reason: it writes the
// close frame and waits for the peer's answer (read by the Read under way,
// if any, or by CloseWithin itself), giving up on both at deadline, and
// closes the socket, which makes Read return. A reason longer than 123
// bytes is shortened.
//
// It closes the socket at once, without a close frame, when deadline has
// passed, when Abort was called, or when an earlier write failed (it timed
// out: the peer is not reading), so it never waits on a peer known to be
// stuck. Closing a closed connection returns ErrClosed and changes nothing.
// A code that may not be sent closes the socket without a handshake and
// returns an error wrapping ErrCloseCode.
func (c *Conn) CloseWithin(code int, reason string, deadline time.Time) error {
	if c.shut.Swap(true) {
		return ErrClosed
	}
	if c.ping != nil {
		c.ping.Stop()
	}
	if !wsadapt.ValidCode(code) {
		_ = c.nc.Close()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	wait, err := c.w.WriteClose(code, reason, deadline)
	if err != nil {
		_ = c.closeSocket()
		return err
	}
	if wait {
		c.awaitPeerClose(deadline)
	}
	return c.closeSocket()
}

// Close is CloseWithin with a deadline five seconds away.
func (c *Conn) Close(code int, reason string) error {
	return c.CloseWithin(code, reason, time.Now().Add(wsadapt.CloseTimeout))
}

// closeSocket closes the socket; one already closed (the keepalive dropped
// a dead peer) is no error: the goal was a closed socket.
func (c *Conn) closeSocket() error {
	if err := c.nc.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("gobwasws: close: %w", err)
	}
	return nil
}

// drainLimit and drainTime bound what CloseWithin reads and discards,
// after Read sent the peer a close frame for a protocol error, while it
// waits for the peer's close frame: at most drainLimit bytes of payload,
// the rest of a message over the read limit included, until drainTime after
// that close frame. A socket closed with unread input is reset, and the
// reset would cost the peer the close frame sent before it.
const (
	drainLimit = 16 << 20
	drainTime  = time.Second
)

// awaitPeerClose waits until the peer's close frame arrives, the deadline
// passes or, after Read's close frame for a protocol error, drainLimit
// bytes of payload have been discarded or drainTime has passed. A Read
// under way does the reading and signals the close frame; otherwise
// CloseWithin reads, discarding data, itself.
func (c *Conn) awaitPeerClose(deadline time.Time) {
	_ = c.nc.SetReadDeadline(deadline)
	select {
	case <-c.peerClosed:
		return
	case c.reading <- struct{}{}:
	}
	defer func() { <-c.reading }()
	if c.readBroken {
		return // the stream cannot be parsed
	}
	budget := int64(math.MaxInt64)
	if !c.failedAt.IsZero() {
		budget = drainLimit
		if until := c.failedAt.Add(drainTime); until.Before(deadline) {
			_ = c.nc.SetReadDeadline(until)
		}
	}
	for {
		select {
		case <-c.peerClosed:
			return
		default:
		}
		if c.unread > budget {
			return
		}
		budget -= c.unread
		if h, err := c.readHeader(); err != nil || h.OpCode == ws.OpClose {
			return
		}
	}
}
