package wsmanager

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/ssotkit/ssot/auth"
)

// CloseError is how a Conn reports that the peer ended the connection with a
// close frame. A Conn's Read returns an error matching *CloseError
// (errors.As) when the peer sent a close frame, with any code; io.EOF only
// for a clean end without one that the transport knows to be clean; and any
// other error for an abnormal end (a reset, a timeout, a protocol error:
// what browsers report as 1006).
//
// Serve ends a connection whose Read returned a *CloseError or io.EOF in
// Closed and returns nil; any other read error ends it in Failed and Serve
// returns it. CloseError is a plain value, safe to copy and share.
type CloseError struct {
	// Code is the peer's close code (RFC 6455 section 7.4); 1005 (no status
	// received) when its close frame carried none.
	Code int
	// Reason is the peer's close reason, as it sent it. Error never prints
	// it: a reason is the peer's text and may carry anything.
	Reason string
}

// Error returns "wsmanager: peer closed with code N".
func (e *CloseError) Error() string {
	return "wsmanager: peer closed with code " + strconv.Itoa(e.Code)
}

// Close codes sent and recognised by the package (RFC 6455 section 7.4.1).
const (
	CodeNormal          = 1000 // normal closure
	CodeGoingAway       = 1001 // the server is going away: Serve's context ended, Factory.Close
	CodeNoStatus        = 1005 // reported for a close frame without a code; never sent
	CodeAbnormal        = 1006 // reported for a connection that ended without a close frame; never sent
	CodePolicyViolation = 1008 // slow consumer, write timeout, expired token, refused refresh, rate limited
	CodeTooBig          = 1009 // a message over the read limit
	CodeInternalError   = 1011 // the Handler failed or panicked
	CodeServiceRestart  = 1012 // Factory.Drain: reconnect, to another node
	CodeTryAgainLater   = 1013 // a connection, thread or factory limit; a draining factory
)

// Close reasons sent to peers. They say what happened from the peer's point
// of view and never name an internal detail.
const (
	reasonGoingAway    = "going away"
	reasonSlow         = "slow consumer"
	reasonTimeout      = "write timeout"
	reasonInternal     = "internal error"
	reasonExpired      = "token expired"
	reasonConnLimit    = "too many connections"
	reasonUserLimit    = "too many threads"
	reasonFactoryLimit = "server at capacity"
	reasonInvalidUser  = "invalid user"
	reasonRestart      = "service restart"
	reasonDraining     = "server draining"
	reasonRateLimited  = "rate limited"
	reasonBroker       = "try again later"
)

// cause records why a connection closes. The first close request wins and
// fixes the code, the reason, whether what is queued is still written, the
// machine's final state and what Serve returns.
type cause uint8

const (
	causeNone         cause = iota
	causePeer               // Read returned a *CloseError or io.EOF
	causeContext            // Serve's context ended
	causeMachine            // someone moved the machine to Closing
	causeClosed             // Connection.Close, Manager.Close or Factory.Close
	causeExpired            // the identity's ExpiresAt passed
	causeSlow               // the queue was full under CloseSlow
	causeWriteTimeout       // a write exceeded Options.WriteTimeout
	causeWrite              // Conn.Write or WriteBatch failed
	causeRead               // Conn.Read failed abnormally
	causeHandler            // the Handler returned an error
	causePanic              // the Handler, or an observer of the machine, panicked
	causeRefresh            // a token refresh was refused
	causeRateLimited        // the client sent past Options.ReadRate
	causeAborted            // set-up never completed: a released reservation, an OnConnect that panicked
)

// String is the transition reason recorded in the connection's machine.
func (c cause) String() string {
	switch c {
	case causePeer:
		return "peer closed"
	case causeContext:
		return "context done"
	case causeMachine:
		return "closing requested"
	case causeClosed:
		return "closed"
	case causeExpired:
		return "token expired"
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
		return "panic"
	case causeRefresh:
		return "token refresh refused"
	case causeRateLimited:
		return "rate limited"
	case causeAborted:
		return "aborted"
	}
	return "none"
}

// failed reports whether the connection ends in Failed rather than Closed.
func (c cause) failed() bool { return c >= causeSlow }

// delivers reports whether what was queued before the close is still
// written before the close frame. Closes the service asked for deliver; a
// peer that closed, a token that expired and every failure discard.
func (c cause) delivers() bool {
	return c == causeContext || c == causeMachine || c == causeClosed
}

// ending is the first close request of a connection.
type ending struct {
	why cause
	// discard is set when what is queued is not written before the close
	// frame: the cause does not deliver, or the machine was not
	// operational when the close was asked for, so nothing may be written.
	discard bool
	code    int
	reason  string
	err     error // what failed, for Serve's return value
}

// serveErr is what Serve returns for a connection that ended this way.
func (e ending) serveErr() error {
	switch e.why {
	case causePeer, causeContext, causeMachine:
		return nil
	case causeClosed:
		return ErrClosed
	case causeExpired:
		return fmt.Errorf("wsmanager: %w", auth.ErrExpired)
	case causeSlow:
		return ErrQueueFull
	case causeWriteTimeout:
		return ErrWriteTimeout
	case causeRead:
		return fmt.Errorf("wsmanager: read: %w", e.err)
	case causeWrite:
		return fmt.Errorf("wsmanager: write: %w", e.err)
	case causeHandler:
		return fmt.Errorf("wsmanager: handler: %w", e.err)
	case causePanic:
		return e.err
	case causeRefresh:
		return fmt.Errorf("wsmanager: token refresh: %w", e.err)
	case causeRateLimited:
		return ErrRateLimited
	case causeAborted:
		return ErrClosed
	}
	return nil
}

// peerEnded reports whether a Read error is the peer ending the connection
// (a close frame, or a clean end without one) rather than an abnormal end.
func peerEnded(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce) || errors.Is(err, io.EOF)
}
