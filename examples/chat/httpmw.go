package main

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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

// statusRecorder remembers the status a handler wrote: through
// WriteHeader, or, for a WebSocket upgrade, in the response the upgrader
// writes itself on the hijacked connection (101, or the status of a
// handshake it refused). It passes Unwrap through so
// http.ResponseController still reaches the real connection.
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

// Hijack hijacks the wrapped ResponseWriter's connection. The connection
// itself is returned as it is, for the transport to use; the buffered
// writer is one that reads the status line of the response written through
// it.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nc, brw, err
	}
	return nc, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(&statusSniffer{w: nc, rec: s})), nil
}

// statusSniffer passes writes through to w and records, in rec, the status
// of the HTTP status line that begins them.
type statusSniffer struct {
	w    io.Writer
	rec  *statusRecorder
	line []byte // the status line so far, until it is complete
	done bool
}

func (s *statusSniffer) Write(p []byte) (int, error) {
	if !s.done {
		s.line = append(s.line, p[:min(len(p), 16-len(s.line))]...)
		// "HTTP/1.1 101 ": the code is the three digits after the space.
		if _, rest, ok := bytes.Cut(s.line, []byte(" ")); ok && len(rest) >= 3 {
			if code, err := strconv.Atoi(string(rest[:3])); err == nil {
				s.rec.status = code
			}
			s.done = true
		} else if len(s.line) == 16 {
			s.done = true
		}
	}
	return s.w.Write(p)
}

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
