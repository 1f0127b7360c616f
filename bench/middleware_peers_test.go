package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/justinas/alice"
)

// noop is a middleware that does nothing but pass the request on, so the
// benchmark measures the chain and not the work of its links.
func noop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
}

// chainDepth is how many no-op middlewares every chain holds.
const chainDepth = 5

func noops() []func(http.Handler) http.Handler {
	ms := make([]func(http.Handler) http.Handler, chainDepth)
	for i := range ms {
		ms[i] = noop
	}
	return ms
}

// endpoint is the innermost handler; it counts so a test can see it ran.
type endpoint struct{ calls int }

func (e *endpoint) ServeHTTP(http.ResponseWriter, *http.Request) { e.calls++ }

// discard is a ResponseWriter that allocates nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func handNested(h http.Handler) http.Handler {
	return noop(noop(noop(noop(noop(h)))))
}

// handWrapped nests the same middlewares by hand through function values,
// as every chain library (and a loop over a slice) must call them. Written
// at the call site, handNested lets the compiler inline noop and specialise
// its closure; handWrapped is the form a chain can be held to.
func handWrapped(h http.Handler) http.Handler {
	ms := noops()
	for i := len(ms) - 1; i >= 0; i-- {
		h = ms[i](h)
	}
	return h
}

func serveLoop(b *testing.B, h http.Handler) {
	b.Helper()
	b.ReportAllocs()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkMiddleware serves one request through five no-op middlewares
// built by each chain library, and by hand-nesting them.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("5noop/hand", func(b *testing.B) { serveLoop(b, handNested(&endpoint{})) })
	b.Run("5noop/hand-wrapped", func(b *testing.B) { serveLoop(b, handWrapped(&endpoint{})) })
	b.Run("5noop/alice", func(b *testing.B) { serveLoop(b, alice.New(toAlice(noops())...).Then(&endpoint{})) })
	b.Run("5noop/chi", func(b *testing.B) { serveLoop(b, chi.Chain(noops()...).Handler(&endpoint{})) })
	benchMiddlewareOurs(b)
}

func toAlice(ms []func(http.Handler) http.Handler) []alice.Constructor {
	cs := make([]alice.Constructor, len(ms))
	for i, m := range ms {
		cs[i] = m
	}
	return cs
}

func TestMiddlewarePeersReachHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(http.Handler) http.Handler
	}{
		{"hand", handNested},
		{"hand-wrapped", handWrapped},
		{"alice", func(h http.Handler) http.Handler { return alice.New(toAlice(noops())...).Then(h) }},
		{"chi", func(h http.Handler) http.Handler { return chi.Chain(noops()...).Handler(h) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &endpoint{}
			h := tt.build(e)
			for range 3 {
				h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/", nil))
			}
			if e.calls != 3 {
				t.Errorf("handler ran %d times, want 3", e.calls)
			}
		})
	}
}
