package gorillaws

import (
	"errors"
	"net"
	"time"
)

// aLongTimeAgo returns a deadline already in the past, which makes a pending
// socket operation fail at once; it reads no clock.
func aLongTimeAgo() time.Time { return time.Unix(1, 0) }

// isClosedConn reports whether err only says the socket was already closed,
// which Close treats as success: the goal was a closed socket.
func isClosedConn(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed)
}
