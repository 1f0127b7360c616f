package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

func ssotChain(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	ms := make([]middleware.Middleware, chainDepth)
	for i := range ms {
		ms[i] = middleware.Middleware{Name: fmt.Sprintf("noop%d", i), Wrap: noop}
	}
	c, err := middleware.New(ms...)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := c.Then(h)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func benchMiddlewareOurs(b *testing.B) {
	b.Run("5noop/ssot", func(b *testing.B) { serveLoop(b, ssotChain(b, &endpoint{})) })
}

func TestMiddlewareSSOTReachesHandler(t *testing.T) {
	t.Parallel()
	e := &endpoint{}
	h := ssotChain(t, e)
	for range 3 {
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/", nil))
	}
	if e.calls != 3 {
		t.Errorf("handler ran %d times, want 3", e.calls)
	}
}
