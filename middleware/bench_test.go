package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

// BenchmarkChain compares a 5-middleware Chain with the same middlewares
// nested by hand: the chain must add nothing per request.
//
// "hand-nested" writes noop(noop(…)) at the call site, which lets the
// compiler inline noop and specialise its closure; "hand-wrapped" calls the
// same Wrap function values a Chain holds, by hand. Chain.Then builds
// exactly the "hand-wrapped" handler, so those two are the like-for-like
// comparison; the gap to "hand-nested" is the compiler's, and any chain
// whose middlewares are values (alice, chi) pays it too.
func BenchmarkChain(b *testing.B) {
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	b.Run("chain", func(b *testing.B) {
		var ms []middleware.Middleware
		for i := range 5 {
			ms = append(ms, middleware.Middleware{Name: strconv.Itoa(i), Wrap: noop})
		}
		h := build(b, final, ms...)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("hand-wrapped", func(b *testing.B) {
		wraps := []func(http.Handler) http.Handler{noop, noop, noop, noop, noop}
		var h http.Handler = final
		for i := len(wraps) - 1; i >= 0; i-- {
			h = wraps[i](h)
		}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("hand-nested", func(b *testing.B) {
		h := noop(noop(noop(noop(noop(final)))))
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkSession measures loading a session from a cookie, changing it and
// sealing the new cookie.
func BenchmarkSession(b *testing.B) {
	m := sessionMW(b, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	i := 0
	h := build(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := middleware.SessionFrom(r.Context())
		i++
		s.Set("counter", strconv.Itoa(i))
	}), m)
	seed := do(h)
	cookie := seed.Cookies()[0]
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}
