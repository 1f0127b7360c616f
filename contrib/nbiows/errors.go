package nbiows

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by NewUpgrader for a negative read
	// limit, backlog, worker count or handshake timeout, a ping interval
	// that is negative and not NoPing, or a malformed origin pattern.
	ErrInvalidOptions = sentinel("nbiows: invalid options")
	// ErrUpgrade is returned by Upgrader.Upgrade when the handshake fails
	// or is refused, after whatever HTTP error response the connection
	// could still take was written.
	ErrUpgrade = sentinel("nbiows: upgrade failed")
	// ErrUpgraderClosed is wrapped by Upgrade's error once Upgrader.Close
	// was called, and is what reading reports (Read's error, the
	// Receiver's End) for a connection that Close ended.
	ErrUpgraderClosed = sentinel("nbiows: upgrader closed")
	// ErrCloseCode is returned by Conn.CloseWithin and Conn.Close for a
	// code that may not be sent in a close frame (1005, 1006, 1015 and
	// codes outside 1000–1014 and 3000–4999). The connection is still
	// closed, without a handshake.
	ErrCloseCode = sentinel("nbiows: close code may not be sent")
	// ErrClosed is returned by Read, WriteMessages, Write, WriteBatch,
	// CloseWithin and Close on a connection that CloseWithin or Close has
	// already closed, and is what the Receiver's End reports then.
	ErrClosed = sentinel("nbiows: connection closed")
	// ErrAborted is returned by WriteMessages, Write and WriteBatch once
	// Abort was called: by the write Abort interrupted and by every later
	// one.
	ErrAborted = sentinel("nbiows: write aborted")
	// ErrProtocol is wrapped by the error reading ends with when the peer
	// broke RFC 6455 (an unmasked frame, reserved bits, a 64-bit length
	// with its most significant bit set, a bad close frame, a text message
	// that is not UTF-8, a message over the read limit); the connection has
	// been sent the matching close code.
	ErrProtocol = sentinel("nbiows: protocol error")
	// ErrBacklog is wrapped by the error reading ends with when the peer
	// sent more than Options.Backlog bytes of messages that were not yet
	// handled; the connection has been sent 1008.
	ErrBacklog = sentinel("nbiows: too many unhandled messages")
	// ErrNoPong is the error reading ends with once a peer has left a ping
	// unanswered for a whole ping interval: the connection was dropped as
	// dead.
	ErrNoPong = sentinel("nbiows: peer stopped answering pings")
	// ErrReceiving is returned by Read on a connection that delivers
	// through Receive, and is what End reports to a Receiver given to a
	// second Receive, or to Receive after Read.
	ErrReceiving = sentinel("nbiows: connection already delivers elsewhere")
)
