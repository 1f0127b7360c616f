package gorillaws

import (
	"errors"
	"net"
	"time"

	"github.com/ssotkit/ssot/internal/wsadapt"
)

// socket is the connection gorilla writes to, for a Conn from
// Upgrader.Upgrade: the write deadline gorilla sets for each frame goes
// through the Conn's WriteDeadline.
type socket struct {
	net.Conn
	deadline *wsadapt.WriteDeadline
}

func newSocket(nc net.Conn) *socket {
	return &socket{Conn: nc, deadline: wsadapt.NewWriteDeadline(nc.SetWriteDeadline)}
}

func (s *socket) SetWriteDeadline(t time.Time) error {
	if err := s.deadline.Set(t); err != nil && !errors.Is(err, wsadapt.ErrAborted) {
		return err
	}
	return nil
}

func (s *socket) SetDeadline(t time.Time) error {
	if err := s.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}
