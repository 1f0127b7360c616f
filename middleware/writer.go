package middleware

import (
	"bufio"
	"net"
	"net/http"
)

// hookWriter calls before once, just before the response header is written
// (by WriteHeader, the first Write, or a Flush), and tracks whether the
// response has started. It keeps http.ResponseController, Flusher and
// Hijacker working through Unwrap, Flush and Hijack.
type hookWriter struct {
	http.ResponseWriter
	before  func(http.ResponseWriter)
	started bool
}

func (w *hookWriter) start() {
	if !w.started {
		w.started = true
		if w.before != nil {
			w.before(w.ResponseWriter)
		}
	}
}

func (w *hookWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational responses (103 Early Hints) precede the real header.
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.start()
	w.ResponseWriter.WriteHeader(code)
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.start()
	return w.ResponseWriter.Write(p)
}

func (w *hookWriter) Flush() {
	w.start()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *hookWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.started = true // the connection is no longer an HTTP response
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *hookWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
