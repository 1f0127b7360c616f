package gobwasws

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by NewUpgrader for a negative read
	// limit, a ping interval that is negative and not NoPing, a negative
	// handshake timeout, or a malformed origin pattern.
	ErrInvalidOptions = sentinel("gobwasws: invalid options")
	// ErrUpgrade is returned by Upgrader.Upgrade and Upgrader.UpgradeConn
	// when the handshake fails or is refused (UpgradeConn's error also wraps
	// what accept returned), after whatever HTTP error response the
	// connection could still take was written; and by Request.HTTP for a
	// malformed request target.
	ErrUpgrade = sentinel("gobwasws: upgrade failed")
	// ErrCloseCode is returned by Conn.CloseWithin and Conn.Close for a code that may not be sent
	// in a close frame (1005, 1006, 1015 and codes outside 1000–1014 and
	// 3000–4999). The connection is still closed, without a handshake.
	ErrCloseCode = sentinel("gobwasws: close code may not be sent")
	// ErrClosed is returned by Read, WriteMessages, Write, WriteBatch,
	// CloseWithin and Close on a connection that CloseWithin or Close has
	// already closed.
	ErrClosed = sentinel("gobwasws: connection closed")
	// ErrAborted is returned by WriteMessages, Write and WriteBatch once
	// Abort was called: by the write Abort interrupted and by every later
	// one.
	ErrAborted = sentinel("gobwasws: write aborted")
	// ErrProtocol is wrapped by Read's error when the peer broke RFC 6455
	// (an unmasked frame, reserved bits, a 64-bit length with its most
	// significant bit set, a bad close frame, a text message that is not
	// UTF-8, a message over the read limit); the connection has been sent
	// the matching close code.
	ErrProtocol = sentinel("gobwasws: protocol error")
	// ErrNoPong is Read's error once a peer has left a ping unanswered for
	// a whole ping interval: the connection was dropped as dead.
	ErrNoPong = sentinel("gobwasws: peer stopped answering pings")
)
