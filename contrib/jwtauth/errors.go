package jwtauth

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	// ErrInvalidOptions is returned by the constructors for an unsupported
	// key type, an algorithm that does not suit the key, a negative leeway
	// or an empty name in Options.Claims.Scopes.
	ErrInvalidOptions = sentinel("jwtauth: invalid options")
	// ErrWeakKey is returned by the constructors for an HMAC secret shorter
	// than its algorithm's hash (32 bytes for HS256) or an RSA key shorter
	// than 2048 bits.
	ErrWeakKey = sentinel("jwtauth: key too weak")
	// ErrInvalidKey is returned by ParsePublicKey for input that holds no
	// supported public key.
	ErrInvalidKey = sentinel("jwtauth: invalid key")
)
