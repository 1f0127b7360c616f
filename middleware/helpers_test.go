package middleware_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

// logBuffer is a concurrency-safe buffer for a test logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

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
