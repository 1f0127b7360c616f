package oidcauth

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by New for an issuer that is not an
	// absolute https URL (http is allowed on a loopback host only), a
	// missing Audience, an algorithm outside the supported set ("none" and
	// the HMAC algorithms included), or a duration or size out of range.
	ErrInvalidOptions = sentinel("oidcauth: invalid options")
	// ErrDiscovery is returned by New when the provider's discovery
	// document cannot be used: it is malformed, names another issuer, or
	// has no usable jwks_uri.
	ErrDiscovery = sentinel("oidcauth: unusable discovery document")
	// ErrRedirect is wrapped, beside auth.ErrUnavailable, by the error of
	// fetching the discovery document or the key set when the server
	// redirects the request to a URL that is not https (when the request
	// was) or whose origin is neither the issuer's nor that of the URL
	// requested. New returns that error; a Verifier logs it as a failed
	// key set fetch.
	ErrRedirect = sentinel("oidcauth: redirect refused")
)
