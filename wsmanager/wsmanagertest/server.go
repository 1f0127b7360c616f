package wsmanagertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// Timeout bounds every wait of the suite: a loopback round trip takes
// microseconds, so reaching it means the adapter under test is broken.
const Timeout = 10 * time.Second

// Server is a loopback HTTP server that upgrades every request with an
// Upgrader and hands the connections to the test.
type Server struct {
	// URL is the server's address as a ws:// URL.
	URL   string
	conns chan wsmanager.Conn
}

// NewServer starts a server on 127.0.0.1 that upgrades every request with
// up, echoing subprotocol. The server, and every connection it accepted,
// is closed when the test ends.
func NewServer(t testing.TB, up wsmanager.Upgrader, subprotocol string) *Server {
	t.Helper()
	s := &Server{conns: make(chan wsmanager.Conn, 16)}
	var mu sync.Mutex
	var accepted []wsmanager.Conn
	s.URL = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, subprotocol)
		if err != nil {
			return // the Upgrader wrote the HTTP error response
		}
		mu.Lock()
		accepted = append(accepted, c)
		mu.Unlock()
		s.conns <- c
	}), func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range accepted {
			_ = c.Close(wsmanager.CodeGoingAway, "test over")
		}
	})
	return s
}

// serve starts h on 127.0.0.1 and returns its ws:// URL. At the end of the
// test, before closes the test's connections, then the server closes.
func serve(t testing.TB, h http.Handler, before func()) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		if before != nil {
			before()
		}
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// Accept returns the next connection the server upgraded.
func (s *Server) Accept(t testing.TB) wsmanager.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(Timeout):
		t.Fatal("wsmanagertest: no connection accepted")
		return nil
	}
}

// Dial connects a Client to s with header, fails the test if the handshake
// does not succeed, and closes the client's socket when the test ends.
func (s *Server) Dial(t testing.TB, header http.Header) *Client {
	t.Helper()
	return DialURL(t, s.URL, header)
}

// DialURL is Server.Dial for any ws:// URL.
func DialURL(t testing.TB, url string, header http.Header) *Client {
	t.Helper()
	c, _, err := Dial(Context(t), url, header)
	if err != nil {
		t.Fatalf("wsmanagertest: dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Context returns a context bounded by Timeout that ends with the test.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}
