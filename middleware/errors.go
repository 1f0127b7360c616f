package middleware

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalid is returned for a middleware without a name or a Wrap
	// function (as built by a constructor given bad arguments), a nil
	// handler, a Wrap that returns nil, and invalid options.
	ErrInvalid = sentinel("middleware: invalid")
	// ErrDuplicate is returned when two middlewares of a chain share a name.
	ErrDuplicate = sentinel("middleware: duplicate name")
	// ErrMissingDependency is returned when a middleware's After names a
	// middleware that is not in the chain.
	ErrMissingDependency = sentinel("middleware: missing dependency")
	// ErrOrder is returned when a middleware's After names a middleware that
	// is in the chain but not earlier (outer).
	ErrOrder = sentinel("middleware: wrong order")
	// ErrWeakSecret is returned by Session for no keys or a key shorter than
	// 32 bytes.
	ErrWeakSecret = sentinel("middleware: weak secret")
	// ErrInsecure is returned by Session for SameSite=None on a cookie that
	// is not Secure, which browsers reject.
	ErrInsecure = sentinel("middleware: insecure cookie settings")
	// ErrTooLarge is logged, and the cookie left unchanged, when a session
	// no longer fits in one cookie.
	ErrTooLarge = sentinel("middleware: session too large for a cookie")
)
