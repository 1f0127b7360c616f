package middleware_test

import (
	"net/http"
	"testing"

	"github.com/ssotkit/ssot/middleware"
)

// FuzzSessionCookie feeds arbitrary cookie values to the session middleware:
// it must never panic or fail the request, and the only sessions that open
// are ones it sealed (every session sealed with this key holds exactly
// user=alice).
func FuzzSessionCookie(f *testing.F) {
	m := sessionMW(f, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	var valid string
	h := build(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := middleware.SessionFrom(r.Context())
		s.Set("user", "alice")
	}), m)
	for _, ck := range do(h).Cookies() {
		valid = ck.Value
	}
	f.Add(valid)
	f.Add("")
	f.Add("AAAA")
	f.Add(valid[:len(valid)/2])
	f.Add(valid + "A")
	f.Fuzz(func(t *testing.T, value string) {
		var got string
		h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, ok := middleware.SessionFrom(r.Context())
			if !ok {
				t.Fatal("no session")
			}
			for _, k := range s.Keys() {
				got += k + "=" + s.Get(k) + ";"
			}
		}), m)
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "session="+value)
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, r)
		if w.code != 0 && w.code != 200 {
			t.Fatalf("status %d", w.code)
		}
		if got != "" && got != "user=alice;" {
			t.Fatalf("a cookie the middleware did not seal opened as %q", got)
		}
	})
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
