package gorillaws

import (
	"errors"
	"net"
)

// isClosedConn reports whether err only says the socket was already closed,
// which CloseWithin treats as success: the goal was a closed socket.
func isClosedConn(err error) bool {
	return err == nil || errors.Is(err, net.ErrClosed)
}
