package env

type sentinel string

func (e sentinel) Error() string { return string(e) }

// Sentinel errors. Every error returned by this package wraps one of them.
const (
	// ErrMissing is returned when a required key is not set.
	ErrMissing = sentinel("env: missing")
	// ErrInvalidValue is returned when a value cannot be converted to the
	// target kind. The value itself is never part of the error.
	ErrInvalidValue = sentinel("env: invalid value")
	// ErrBadTag is returned when a struct tag is malformed or contradictory.
	ErrBadTag = sentinel("env: bad tag")
	// ErrSyntax is returned when a dotenv file cannot be parsed.
	ErrSyntax = sentinel("env: syntax error")
	// ErrInvalidTarget is returned when Decode is not given a non-nil
	// pointer to a struct.
	ErrInvalidTarget = sentinel("env: invalid target")
)
