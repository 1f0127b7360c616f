package jwtauth

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ssotkit/ssot/internal/safefmt"
)

// Verifier and Signer hold a key. Each prints one description without it,
// whatever the fmt verb (Format) or the log/slog handler (LogValue).

// String names the kind of key, never the key: "HMAC secret" or the public
// key's type.
func (v *Verifier) String() string { return "jwtauth.Verifier{key: " + v.keyKind() + "}" }

// GoString returns String.
func (v *Verifier) GoString() string { return v.String() }

// Format prints String for every verb.
func (v *Verifier) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, v.String()) }

// LogValue lets log/slog print the kind of key alone.
func (v *Verifier) LogValue() slog.Value {
	if v == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("key", v.keyKind()))
}

func (v *Verifier) keyKind() string {
	if _, ok := v.key.([]byte); ok {
		return "HMAC secret"
	}
	return fmt.Sprintf("%T", v.key)
}

// String names the issuer and audience the Signer writes, never its secret.
func (s *Signer) String() string {
	return "jwtauth.Signer{Issuer: " + strconv.Quote(s.opts.Issuer) + ", Audience: " + strconv.Quote(s.opts.Audience) + "}"
}

// GoString returns String.
func (s *Signer) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *Signer) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, s.String()) }

// LogValue lets log/slog print the issuer and audience alone.
func (s *Signer) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("issuer", s.opts.Issuer), slog.String("audience", s.opts.Audience))
}

var (
	_ fmt.Formatter  = (*Verifier)(nil)
	_ slog.LogValuer = (*Verifier)(nil)
	_ fmt.Formatter  = (*Signer)(nil)
	_ slog.LogValuer = (*Signer)(nil)
)
