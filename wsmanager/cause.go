package wsmanager

// cause records why a connection closed. The first cause wins: later close
// requests change nothing.
type cause uint8

const (
	causeNone         cause = iota
	causePeer               // the peer closed: Read returned io.EOF
	causeContext            // Serve's context ended
	causeClosed             // Connection.Close, Manager.Close or Factory.Close
	causeSlow               // the queue was full under CloseSlow
	causeWriteTimeout       // a write exceeded Options.WriteTimeout
	causeWrite              // Conn.Write failed
	causeRead               // Conn.Read failed other than with io.EOF
	causeHandler            // the Handler returned an error
	causePanic              // the Handler panicked
)

// String is the transition reason recorded in the connection's machine.
func (c cause) String() string {
	switch c {
	case causePeer:
		return "peer closed"
	case causeContext:
		return "context done"
	case causeClosed:
		return "closed"
	case causeSlow:
		return "slow consumer"
	case causeWriteTimeout:
		return "write timeout"
	case causeWrite:
		return "write error"
	case causeRead:
		return "read error"
	case causeHandler:
		return "handler error"
	case causePanic:
		return "handler panic"
	}
	return "none"
}

// failed reports whether the connection ends in Failed rather than Closed.
func (c cause) failed() bool {
	return c >= causeSlow
}

// Close codes and reasons sent to peers. Reasons name what happened from the
// peer's point of view and never an internal detail.
const (
	codeNormal      = 1000
	codeGoingAway   = 1001
	codePolicy      = 1008
	codeInternal    = 1011
	codeTryAgain    = 1013
	reasonGoingAway = "going away"
	reasonSlow      = "slow consumer"
	reasonTimeout   = "write timeout"
	reasonInternal  = "internal error"
	reasonConnLimit = "too many connections"
	reasonUserLimit = "too many threads"
)
