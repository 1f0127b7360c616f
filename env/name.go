package env

import (
	"fmt"
	"strings"
)

// Name is a deployment environment. The zero value is Development.
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

// ParseName maps an environment name to a Name. It accepts, case-insensitively
// and ignoring surrounding spaces, dev/development, test/testing,
// stage/staging and prod/production. Anything else, including the empty
// string, is an error wrapping ErrInvalidValue that does not repeat the input.
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
	return 0, fmt.Errorf("%w: environment name must be one of development, test, staging, production", ErrInvalidValue)
}
