package prommetrics

type sentinel string

func (e sentinel) Error() string { return string(e) }

// ErrInvalidSource is returned by the constructors for a nil source or an
// empty broker name.
const ErrInvalidSource = sentinel("prommetrics: invalid source")
