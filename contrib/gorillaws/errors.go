package gorillaws

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by NewUpgrader for a negative read limit
	// or a malformed origin pattern.
	ErrInvalidOptions = sentinel("gorillaws: invalid options")
	// ErrAborted is returned by Conn.WriteMessages and Conn.Write once
	// Abort was called: by the write Abort interrupted and by every later
	// one.
	ErrAborted = sentinel("gorillaws: write aborted")
	// ErrCloseCode is returned by Conn.CloseWithin and Conn.Close for a code that may not be sent
	// in a close frame (1005, 1006, 1015 and codes outside 1000–1014 and
	// 3000–4999). The connection is still closed, without a handshake.
	ErrCloseCode = sentinel("gorillaws: close code may not be sent")
	// ErrClosed is returned by Read, CloseWithin and Close on a connection
	// that CloseWithin or Close has already closed, and by WriteMessages
	// and Write once a close frame went out.
	ErrClosed = sentinel("gorillaws: connection closed")
	// ErrUpgrade is returned by Upgrader.Upgrade when the handshake fails.
	// The HTTP error response has already been written.
	ErrUpgrade = sentinel("gorillaws: upgrade failed")
)
