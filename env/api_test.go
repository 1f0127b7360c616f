package env_test

import (
	"io"

	"github.com/ssotkit/ssot/env"
)

// The exported API that DESIGN.md fixes, checked by the compiler: code
// outside this repository compiles against these signatures, so a change to
// one breaks this file first.
var (
	_ func() env.Env                             = env.OS
	_ func(map[string]string) env.Env            = env.Map
	_ func(string, io.Reader) (env.Env, error)   = env.Parse
	_ func(string) (env.Env, error)              = env.Load
	_ func(...env.Env) env.Env                   = env.Layer
	_ func(env.Env, string) (string, bool)       = env.Env.Lookup
	_ func(env.Env, string) string               = env.Env.Source
	_ func(env.Env, map[string]string) env.Env   = env.Env.With
	_ func(env.Env, ...string) env.Env           = env.Env.Without
	_ func(env.Env) []string                     = env.Env.Keys
	_ func(env.Env) []string                     = env.Env.Environ
	_ func(env.Env, ...string) error             = env.Env.Require
	_ func(env.Env) (env.Name, error)            = env.Env.Name
	_ func(env.Name) string                      = env.Name.String
	_ func(env.Env, any) error                   = env.Decode
	_ func(string, string) string                = env.Redact
	_ error                                      = &env.FieldError{Field: "", Key: ""}
	_ [4]env.Name                                = [...]env.Name{env.Development, env.Test, env.Staging, env.Production}
	_ interface{ UnmarshalText([]byte) error }   = new(env.Name)
	_ interface{ Lookup(string) (string, bool) } = env.Env{}
)

// The sentinels are constants, not variables anyone could reassign.
const (
	_ = env.ErrMissing
	_ = env.ErrInvalidValue
	_ = env.ErrBadTag
	_ = env.ErrSyntax
	_ = env.ErrInvalidTarget
)
