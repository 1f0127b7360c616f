//go:build !with_env

package bench

import "testing"

// benchEnvOurs is empty until env.Decode exists.
func benchEnvOurs(*testing.B, map[string]string) {}
