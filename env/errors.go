package env

import (
	"strconv"
	"strings"
)

type sentinel string

func (e sentinel) Error() string { return string(e) }

// Sentinel errors. Every error about the content of an environment, a dotenv
// file or a struct tag wraps one of them, so callers test with errors.Is. No
// error of this package contains a value read from an environment.
const (
	// ErrMissing is returned by Env.Require, Decode and Report.Err (for the
	// Report that Check returns) when a required key is not set. A key set
	// to the empty string is set.
	ErrMissing = sentinel("env: missing")
	// ErrInvalidValue is returned by Decode and Report.Err (for the Report
	// that Check returns) when a value cannot be converted to the target
	// kind, including an empty value for a number, a duration or a URL; by
	// Env.Name, ParseName and Name.UnmarshalText for an environment name
	// that is none of the four, the empty one included; and by
	// Name.MarshalText for a Name outside the four. The value itself is
	// never part of the error.
	ErrInvalidValue = sentinel("env: invalid value")
	// ErrBadTag is returned by Decode and Report.Err (for the Report that
	// Check returns) when a struct tag is malformed or contradictory
	// (required with default, an unknown option, a default that does not
	// parse) or names a field Decode cannot set.
	ErrBadTag = sentinel("env: bad tag")
	// ErrSyntax is returned by Parse, Load and LoadOptional when a dotenv
	// file cannot be parsed; the error is an errors.Join of one *SyntaxError
	// per malformed entry, each naming the file and line, whose
	// SyntaxError.Unwrap returns ErrSyntax.
	ErrSyntax = sentinel("env: syntax error")
	// ErrInvalidTarget is returned for an argument the function cannot use:
	// by Decode and Check when they are not given a non-nil pointer to a
	// struct, and by Parse when it is given a nil reader.
	ErrInvalidTarget = sentinel("env: invalid argument")
)

// FieldError is one problem with one key or struct field. Decode and Require
// return them joined with errors.Join, one per problem. Its text names the key
// and the field and says why, never what the value was. It is a plain value:
// safe to read concurrently; its zero value is an error about nothing.
type FieldError struct {
	// Field is the Go path of the struct field, such as "DB.Port"; empty
	// when the problem is not about a field (Require, Env.Name).
	Field string
	// Key is the environment key, such as "DB_PORT"; empty for a tag
	// problem on a field that has no key.
	Key string
	// Err is ErrMissing, ErrInvalidValue or ErrBadTag.
	Err error
	// Reason says what was expected, such as "not an integer"; it never
	// quotes the value. It may be empty.
	Reason string
}

// Error returns "env: KEY (field F): invalid value: reason".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("env: ")
	switch {
	case e.Key != "" && e.Field != "":
		b.WriteString(e.Key)
		b.WriteString(" (field ")
		b.WriteString(e.Field)
		b.WriteString(")")
	case e.Key != "":
		b.WriteString(e.Key)
	default:
		b.WriteString("field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "env: "))
	} else {
		b.WriteString("error")
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns Err, so errors.Is(err, ErrMissing) and friends work.
func (e *FieldError) Unwrap() error { return e.Err }

// SyntaxError is a dotenv parse error. It names the source and the line the
// offending entry starts on, never the text of the line: a malformed line is
// often a value that went astray. It is a plain value, safe to read
// concurrently; its zero value is an error at line 0 of an unnamed source.
type SyntaxError struct {
	// Name is the name given to Parse, or the path given to Load.
	Name string
	// Line is the 1-based line the offending entry starts on.
	Line int
	// Reason says what is wrong, such as "unterminated double-quoted value".
	Reason string
}

// Error returns "env: syntax error: NAME:LINE: reason".
func (e *SyntaxError) Error() string {
	return string(ErrSyntax) + ": " + e.Name + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }
