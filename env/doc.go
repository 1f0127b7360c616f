// Package env is the isolated environment accessor: configuration is read
// once into an immutable Env value that is passed in, never looked up with
// os.Getenv from scattered places.
package env
