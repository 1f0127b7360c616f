package wsmanager

import "errors"

// Outcome is who ended a connection. It is a plain value; the zero value
// is OutcomePeer.
type Outcome uint8

const (
	// OutcomePeer: the peer closed the connection, with a close frame or
	// a clean end.
	OutcomePeer Outcome = iota
	// OutcomeServer: the service or the package closed it: Close, a
	// drain, a shutdown, a slow consumer, an expired or refused token, a
	// rate limit, a handler's failure.
	OutcomeServer
	// OutcomeFailed: the transport failed: a reset, a dropped socket, a
	// protocol error, a failed write.
	OutcomeFailed
)

// String returns "peer", "server" or "failed".
func (o Outcome) String() string {
	switch o {
	case OutcomePeer:
		return "peer"
	case OutcomeServer:
		return "server"
	}
	return "failed"
}

// Ending is how a served connection ended, as Connection.Ending reports
// it. It is a plain value, safe to copy.
type Ending struct {
	Outcome Outcome
	// Code is the close code the connection ended with on the wire: the
	// peer's when it closed (and the server echoed it), the one the
	// transport sent when it refused what the peer sent (1002, 1007,
	// 1009; see SentCloseError), 1006 (CodeAbnormal) when no close frame
	// was exchanged (a reset, a stuck socket), and otherwise the server's.
	Code int
	// Reason is the server's close reason; empty when the peer closed, so
	// that the peer's own text is never repeated into logs.
	Reason string
}

// SentCloseError is what a transport's Read returns, wrapped or not, when
// the transport itself closed the connection with a close frame, because
// of what the peer sent: 1002 (protocol error), 1007 (invalid UTF-8),
// 1009 (a message over the read limit). The connection then ends as
// OutcomeFailed with that code, not the 1011 the package would send.
type SentCloseError struct {
	Code int
	Err  error // what the peer did, for the log
}

// Error returns "wsmanager: transport closed with code N: " and Err.
func (e *SentCloseError) Error() string {
	msg := "wsmanager: transport closed with code " + itoa(e.Code)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *SentCloseError) Unwrap() error { return e.Err }

// Ending returns how the connection ended, once it has (in
// Options.OnDisconnect, say); false before.
func (c *Connection) Ending() (Ending, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended == nil {
		return Ending{}, false
	}
	return *c.ended, true
}

// recordEnding works out how the connection ended, from its first close
// request, the peer's close code, and whether the close frame went out,
// records it, and counts it in Stats. The writer calls it once the
// transport is closed; c.mu is held.
func (c *Connection) recordEndingLocked(closeErr error) {
	end := c.end
	e := Ending{Outcome: OutcomeServer, Code: end.code, Reason: end.reason}
	var sent *SentCloseError
	switch {
	case end.why == causePeer:
		e = Ending{Outcome: OutcomePeer, Code: int(c.peerCode)}
	case end.why == causeRead && errors.As(end.err, &sent):
		e = Ending{Outcome: OutcomeFailed, Code: sent.Code}
	case end.why == causeRead, end.why == causeWrite:
		e = Ending{Outcome: OutcomeFailed, Code: CodeAbnormal}
	case c.aborted || closeErr != nil:
		// The close frame did not go out: a stuck socket, or a transport
		// that could not write it.
		e.Code = CodeAbnormal
	}
	c.ended = &e
	c.m.f.stats.ended(e)
}

// itoa is strconv.Itoa for close codes, kept here so that Error does not
// allocate through fmt.
func itoa(n int) string {
	if n < 0 || n > 9999 {
		return "?"
	}
	var b [4]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
