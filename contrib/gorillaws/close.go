package gorillaws

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
)

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
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	if !wsadapt.ValidCode(code) {
		c.mu.Unlock()
		_ = c.closeSocket()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	if !time.Now().Before(deadline) || c.lock.Aborted() {
		c.mu.Unlock()
		return c.closeSocket()
	}
	// Bound the wait for the peer's answer before a reader can clear it.
	_ = c.c.SetReadDeadline(deadline)
	c.mu.Unlock()

	if err := c.lockWrite(deadline); err != nil {
		return c.closeSocket()
	}
	if c.lock.Broken() != nil {
		c.lock.Unlock()
		return c.closeSocket()
	}
	var err error
	sent := c.closeSent
	if !sent {
		err = c.writeControlLocked(websocket.CloseMessage, websocket.FormatCloseMessage(code, wsadapt.Reason(reason)), deadline)
	}
	c.lock.Unlock()
	if err == nil {
		c.awaitPeerClose()
	}
	if cerr := c.closeSocket(); err == nil {
		err = cerr
	}
	return err
}

// Close is CloseWithin with a deadline five seconds away.
func (c *Conn) Close(code int, reason string) error {
	return c.CloseWithin(code, reason, time.Now().Add(wsadapt.CloseTimeout))
}

// closeSocket closes the socket; one already closed is no error: the goal
// was a closed socket.
func (c *Conn) closeSocket() error {
	if err := c.c.NetConn().Close(); !isClosedConn(err) {
		return fmt.Errorf("gorillaws: close: %w", err)
	}
	return nil
}

// awaitPeerClose reads, discarding data, until the peer's close frame or the
// read deadline. A Read under way does the reading instead: it returns once
// the close frame arrives, and CloseWithin then finds nothing left to wait
// for.
func (c *Conn) awaitPeerClose() {
	c.readLock <- struct{}{}
	defer func() { <-c.readLock }()
	for {
		if _, _, err := c.c.NextReader(); err != nil {
			return
		}
	}
}

// isClosedConn reports whether err only says the socket was already closed,
// which CloseWithin treats as success: the goal was a closed socket.
func isClosedConn(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed)
}
