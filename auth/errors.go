package auth

import "errors"

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrNoToken is returned by Extractor.Token, Extractor.TokenProtocol,
	// Unified.AuthenticateRequest and Unified.AuthenticateRequestWith when
	// a request carries no token or an empty
	// one, and by Unified.Authenticate for an empty token. A backend that
	// returns it has its answer reported as ErrInvalidToken.
	ErrNoToken = sentinel("auth: no token")
	// ErrInvalidToken is returned by Extractor.Token and
	// Extractor.TokenProtocol for a malformed token (too long, with spaces or
	// control characters, badly encoded, or sent twice); by
	// Unified.Authenticate, Unified.AuthenticateRequest and
	// Unified.AuthenticateRequestWith for those and for a token the backend
	// rejected; and by Introspection.Authenticate (and
	// NewStatic's Authenticator) for a token the endpoint reports inactive
	// (the table does not hold).
	ErrInvalidToken = sentinel("auth: invalid token")
	// ErrExpired is returned by Introspection.Authenticate for an active
	// token whose "exp" has passed, and by Unified.Authenticate,
	// Unified.AuthenticateRequest and Unified.AuthenticateRequestWith when
	// the backend reports the token expired
	// or the identity it returned has already expired.
	ErrExpired = sentinel("auth: token expired")
	// ErrUnavailable is returned by Unified.Authenticate,
	// Unified.AuthenticateRequest and Unified.AuthenticateRequestWith when
	// the token could not be checked: the
	// backend failed, timed out or panicked, the circuit breaker is open, or
	// the Unified is closed; and by Introspection.Authenticate when the
	// endpoint cannot be reached or answers with an error status or a
	// malformed or oversized response. It never comes with an identity.
	ErrUnavailable = sentinel("auth: authentication unavailable")
	// ErrProduction is returned by NewStatic for env.Production and for a
	// Name outside the four environments, which env treats as the most
	// guarded: a fixed token table is for tests and local development only.
	ErrProduction = sentinel("auth: test-only authenticator refused in production or an unknown environment")
	// ErrInvalidOptions is returned by New, NewIntrospection and NewStatic
	// for out-of-range or contradictory options and nil arguments.
	ErrInvalidOptions = sentinel("auth: invalid options")
	// ErrClosed is returned, together with ErrUnavailable, by
	// Unified.Authenticate, Unified.AuthenticateRequest and
	// Unified.AuthenticateRequestWith after Unified.Close.
	ErrClosed = sentinel("auth: closed")
)

// kind is the type of the sentinels that say why a token is invalid: each
// is also ErrInvalidToken (errors.Is), so code that checks for
// ErrInvalidToken keeps working, and Kind names it for logs and metrics.
type kind string

func (e kind) Error() string { return string(e) }

// Is reports that every kind is an ErrInvalidToken.
func (e kind) Is(target error) bool { return target == ErrInvalidToken }

// Why a token is invalid. Backends wrap these (jwtauth and oidcauth do);
// each matches ErrInvalidToken too.
const (
	// ErrMalformed: the token cannot be parsed, or lacks a claim the
	// backend requires.
	ErrMalformed = kind("auth: malformed token")
	// ErrBadSignature: the signature does not verify, the algorithm is not
	// allowed ("none" included), or the key is unknown.
	ErrBadSignature = kind("auth: bad token signature")
	// ErrWrongAudience: the token was issued for another audience, or by
	// another issuer.
	ErrWrongAudience = kind("auth: token for another audience or issuer")
	// ErrNotYetValid: the token's nbf (or iat) is in the future.
	ErrNotYetValid = kind("auth: token not yet valid")
	// ErrRevoked: the issuer reports the token inactive.
	ErrRevoked = kind("auth: token revoked")
	// ErrTokenProtocolAlone: a WebSocket request offered its token as a
	// subprotocol and no other protocol, so a server has none to choose
	// that is not the token (and browsers fail a handshake that chooses
	// none). The client must offer the application's subprotocol beside
	// it.
	ErrTokenProtocolAlone = kind("auth: token subprotocol offered without the application's protocol")
)

// Kind names why err refused a token, for a log line or a metric label:
// "no_token", "expired", "malformed", "bad_signature", "wrong_audience",
// "not_yet_valid", "revoked", "invalid" (another ErrInvalidToken),
// "unavailable", or "" for nil and for errors of no authentication class.
// It is a fixed word, never anything of the token.
func Kind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNoToken):
		return "no_token"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrWrongAudience):
		return "wrong_audience"
	case errors.Is(err, ErrNotYetValid):
		return "not_yet_valid"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrInvalidToken):
		return "invalid"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return ""
}

// classError is a token or availability error whose text is its class alone:
// the cause, which may quote a token or a backend's response, stays
// reachable with errors.Is and errors.As but is never printed.
type classError struct {
	class  sentinel
	detail string // a fixed, value-free description; may be empty
	cause  error
}

func (e *classError) Error() string {
	if e.detail == "" {
		return string(e.class)
	}
	return string(e.class) + ": " + e.detail
}

func (e *classError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.class}
	}
	return []error{e.class, e.cause}
}

// classify maps a backend result to the error Authenticate returns: token
// rejections keep their class, everything else becomes ErrUnavailable.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrExpired):
		return &classError{class: ErrExpired, cause: err}
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrNoToken):
		return &classError{class: ErrInvalidToken, cause: err}
	default:
		return &classError{class: ErrUnavailable, detail: "backend failed", cause: err}
	}
}

// CloseCode returns the WebSocket close code for the result of an
// authentication: 1000 for nil, 1008 (policy violation) for ErrNoToken,
// ErrInvalidToken and ErrExpired, 1013 (try again later) for ErrUnavailable,
// and 1011 (internal error) for anything else.
func CloseCode(err error) int {
	switch {
	case err == nil:
		return 1000
	case isTokenError(err):
		return 1008
	case errors.Is(err, ErrUnavailable):
		return 1013
	default:
		return 1011
	}
}

// HTTPStatus returns the HTTP status for the result of an authentication: 200
// for nil, 401 for ErrNoToken, ErrInvalidToken and ErrExpired, 503 for
// ErrUnavailable, and 500 for anything else.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return 200
	case isTokenError(err):
		return 401
	case errors.Is(err, ErrUnavailable):
		return 503
	default:
		return 500
	}
}

func isTokenError(err error) bool {
	return errors.Is(err, ErrNoToken) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrExpired)
}
