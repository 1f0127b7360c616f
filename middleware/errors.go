package middleware

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalid is returned by New and Chain.Append for a middleware
	// without a name or a Wrap function (the deprecated Authenticate builds
	// one from bad arguments); by Chain.Then and Chain.ThenFunc for a nil
	// handler or a Wrap that returns nil; and by NewAuthenticate, Session and
	// Standard for invalid options and nil arguments.
	ErrInvalid = sentinel("middleware: invalid")
	// ErrDuplicate is returned by New and Chain.Append when two middlewares
	// of a chain share a name. Standard, whose middlewares have distinct
	// names, never returns it.
	ErrDuplicate = sentinel("middleware: duplicate name")
	// ErrMissingDependency is returned by New and Chain.Append when a
	// middleware's After names a middleware that is not in the chain.
	// Standard, which names only middlewares it includes, never returns it.
	ErrMissingDependency = sentinel("middleware: missing dependency")
	// ErrOrder is returned by New and Chain.Append when a middleware's After
	// names a middleware that is in the chain but not earlier (outer).
	// Standard, which builds its order itself, never returns it.
	ErrOrder = sentinel("middleware: wrong order")
	// ErrWeakSecret is returned by Session, and by Standard with a Session,
	// for no keys or a key shorter than MinKeyLen (32) bytes.
	ErrWeakSecret = sentinel("middleware: weak secret")
	// ErrInsecure is returned by Session, and by Standard with a Session,
	// for SameSite=None on a cookie that is not Secure, which browsers
	// reject.
	ErrInsecure = sentinel("middleware: insecure cookie settings")
	// ErrTooLarge is returned by SessionData.Save when a session no longer
	// fits in one cookie; when the middleware itself saves such a session,
	// it logs the error and leaves the cookie unchanged.
	ErrTooLarge = sentinel("middleware: session too large for a cookie")
)
