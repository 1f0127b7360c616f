package middleware_test

import (
	"net/http"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

func build(t testing.TB, h http.Handler, ms ...middleware.Middleware) http.Handler {
	t.Helper()
	c, err := middleware.New(ms...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Then(h)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noop is a middleware that only calls the next handler.
func noop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
}

var final = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
