package env

import (
	"encoding"
	"fmt"
	"strings"
)

// NameKey is the key Env.Name reads.
const NameKey = "ENVIRONMENT"

// Name is a deployment environment. The zero value is Development. Name is
// a small integer, safe to copy and compare.
//
// Name implements encoding.TextUnmarshaler with ParseName, so a config
// struct may hold one and Decode reads it the way Env.Name does, except that
// an unset key leaves the field unchanged:
//
//	Environment env.Name `env:"ENVIRONMENT"`
type Name uint8

// The deployment environments, from least to most guarded.
const (
	Development Name = iota
	Test
	Staging
	Production
)

// String returns the canonical lower-case name: "development", "test",
// "staging" or "production".
func (n Name) String() string {
	switch n {
	case Development:
		return "development"
	case Test:
		return "test"
	case Staging:
		return "staging"
	case Production:
		return "production"
	default:
		return fmt.Sprintf("env.Name(%d)", uint8(n))
	}
}

// nameReason is the one message for a name that is not recognised; it lists
// what is accepted and never repeats the input.
const nameReason = "want development, test, staging or production (or dev, testing, stage, prod)"

// ParseName maps an environment name to a Name. It accepts, case-insensitively
// and ignoring surrounding spaces, dev/development, test/testing,
// stage/staging and prod/production. Anything else, including the empty
// string, is an error wrapping ErrInvalidValue that does not repeat the input:
// an unknown name is never mapped to some environment. With the error it
// returns Production, the most guarded environment, so code that drops the
// error fails closed.
func ParseName(s string) (Name, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "dev", "development":
		return Development, nil
	case "test", "testing":
		return Test, nil
	case "stage", "staging":
		return Staging, nil
	case "prod", "production":
		return Production, nil
	}
	return Production, fmt.Errorf("%w: environment name: %s", ErrInvalidValue, nameReason)
}

// Name reads the deployment environment from the ENVIRONMENT key. Unset means
// Development. Set to anything ParseName does not accept, the empty string
// included, it returns a *FieldError wrapping ErrInvalidValue: a typo such
// as "prodution" stops the service instead of running it as development.
// With the error it returns Production, so code that drops the error gets
// the most guarded behaviour, never the most permissive.
func (e Env) Name() (Name, error) {
	v, ok := e.Lookup(NameKey)
	if !ok {
		return Development, nil
	}
	n, err := ParseName(v)
	if err != nil {
		return Production, &FieldError{Key: NameKey, Err: ErrInvalidValue, Reason: nameReason}
	}
	return n, nil
}

// MarshalText returns String, and an error for a Name outside the four
// environments.
func (n Name) MarshalText() ([]byte, error) {
	if n > Production {
		return nil, fmt.Errorf("%w: environment name out of range", ErrInvalidValue)
	}
	return []byte(n.String()), nil
}

// UnmarshalText sets n with ParseName.
func (n *Name) UnmarshalText(text []byte) error {
	v, err := ParseName(string(text))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

var (
	_ encoding.TextMarshaler   = Name(0)
	_ encoding.TextUnmarshaler = (*Name)(nil)
)
