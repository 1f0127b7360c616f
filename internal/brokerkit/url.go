package brokerkit

// MalformedURLError is a connect error for a URL that does not parse. The
// parser's message quotes the URL, and with it any password or token in
// it, so it is not printed; the cause stays reachable with errors.As.
type MalformedURLError struct {
	Pkg string // the adapter's package name, which starts the message
	Err error
}

func (e MalformedURLError) Error() string { return e.Pkg + ": connect: malformed URL" }

// Unwrap returns the parser's error.
func (e MalformedURLError) Unwrap() error { return e.Err }
