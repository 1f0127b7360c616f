package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/ssotkit/ssot/middleware"
)

// accessLog logs one line per request with its request id, after the
// handler ran. It must run inside request_id to have an id to log.
func accessLog(logger *slog.Logger) middleware.Middleware {
	return middleware.Middleware{
		Name:  "access_log",
		After: []string{"request_id"},
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
				next.ServeHTTP(rec, r)
				id, _ := middleware.RequestIDFrom(r.Context())
				// The query is left out: it may carry a token from a
				// client that ignored the advice not to put it there.
				logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
					"duration", time.Since(start), "request_id", id)
			})
		},
	}
}

// statusRecorder remembers the status a handler wrote. It passes Unwrap
// through so http.ResponseController, and with it the WebSocket hijack,
// still reach the real connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the wrapped ResponseWriter.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// securityHeaders sets the headers that keep the page from being framed,
// sniffed or leaking its URL, and its scripts to its own origin.
func securityHeaders() middleware.Middleware {
	return middleware.Middleware{
		Name: "security_headers",
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
				h.Set("X-Content-Type-Options", "nosniff")
				h.Set("Referrer-Policy", "no-referrer")
				h.Set("X-Frame-Options", "DENY")
				next.ServeHTTP(w, r)
			})
		},
	}
}
