package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover returns the "recover" middleware: a panic in an inner handler
// becomes a 500 response with a generic body, and is logged at Error level
// with the method, path, request ID, panic value and stack; the panic value
// is never sent to the client (so a handler must not panic with a secret).
// When the response has already started, the connection is aborted instead,
// so the client sees a truncated response rather than a complete-looking
// one. http.ErrAbortHandler is re-panicked untouched, as
// net/http expects. A nil logger means slog.Default() at the time of the
// panic. Put it first in a chain so that it covers every other middleware.
func Recover(logger *slog.Logger) Middleware {
	return Middleware{Name: "recover", Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hw := &hookWriter{ResponseWriter: w}
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				l := logger
				if l == nil {
					l = slog.Default()
				}
				// RequestID usually runs inside Recover: its ID is on the
				// response header rather than in this request's context.
				id, ok := RequestIDFrom(r.Context())
				if !ok {
					id = w.Header().Get(RequestIDHeader)
				}
				l.ErrorContext(r.Context(), "middleware: handler panicked",
					"method", r.Method, "path", r.URL.Path, "request_id", id,
					"panic", p, "stack", string(debug.Stack()))
				if hw.started {
					panic(http.ErrAbortHandler)
				}
				h := w.Header()
				for k := range h {
					if k != RequestIDHeader {
						delete(h, k)
					}
				}
				h.Set("Content-Type", "text/plain; charset=utf-8")
				h.Set("X-Content-Type-Options", "nosniff")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte("Internal Server Error\n"))
			}()
			next.ServeHTTP(hw, r)
		})
	}}
}
