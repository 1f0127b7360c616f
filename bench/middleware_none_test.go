//go:build !with_middleware

package bench

import "testing"

// benchMiddlewareOurs is empty until the middleware package exists.
func benchMiddlewareOurs(*testing.B) {}
