package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader is the header RequestID reads and writes.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDLen is the longest incoming request ID RequestID honours.
const MaxRequestIDLen = 128

type requestIDKey struct{}

// RequestID returns the "request_id" middleware. It honours a well-formed
// incoming X-Request-Id (1 to MaxRequestIDLen characters from A–Z, a–z, 0–9,
// '-', '_', '.'), so IDs follow a request across services; otherwise it
// generates 32 random hex characters. It sets the ID on the response header
// and in the request context, where RequestIDFrom finds it.
func RequestID() Middleware {
	return Middleware{Name: "request_id", Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = newRequestID()
			}
			w.Header().Set(RequestIDHeader, id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}}
}

// RequestIDFrom returns the request ID that RequestID stored in ctx.
func RequestIDFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(requestIDKey{}).(string)
	return id, ok
}

func validRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b[:])
}
