package middleware_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/middleware"
)

// rawRouter routes on the escaped path, as routers that honour encoded
// slashes do (chi, gorilla/mux with UseEncodedPath): "/public/" and
// everything below it to public, the rest to protected.
type rawRouter struct{ public, protected http.Handler }

func (rr rawRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.EscapedPath(), "/public/") {
		rr.public.ServeHTTP(w, r)
		return
	}
	rr.protected.ServeHTTP(w, r)
}

// decodedRouter routes on the decoded path, as routers that ignore the
// escaped form do.
type decodedRouter struct{ public, protected http.Handler }

func (dr decodedRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/public/") {
		dr.public.ServeHTTP(w, r)
		return
	}
	dr.protected.ServeHTTP(w, r)
}

// TestSkipFollowsTheRouter puts "/public/" in Skip in front of routers that
// also serve a protected catch-all, and sends request lines as an attacker
// would write them: no spelling of a path may reach the protected handler
// without a token, and the plain public paths stay public.
func TestSkipFollowsTheRouter(t *testing.T) {
	t.Parallel()
	says := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(s)) })
	}
	mux := http.NewServeMux()
	mux.Handle("/public/", says("public"))
	mux.Handle("/", says("protected"))
	routers := map[string]http.Handler{
		"ServeMux":       mux,
		"escaped router": rawRouter{public: says("public"), protected: says("protected")},
		"decoded router": decodedRouter{public: says("public"), protected: says("protected")},
	}
	authn, err := middleware.NewAuthenticate(staticUnified(t), middleware.AuthOptions{Skip: []string{"/public/"}})
	if err != nil {
		t.Fatal(err)
	}
	attacks := []string{
		"/public%2Fx", "/public%2fx", "/public%2Fa%2Fb", "/public%2F",
		"/public%5Cx", "/public%5cx", `/public\x`,
		"/public/%2e%2e/admin", "/public/%2E%2E%2Fadmin", "/public/..%2fadmin", "/public/x%2F..%2F..%2Fadmin",
		"/public/%252e%252e/admin", "/public/%25", "/public/%zz", "/public/%2",
		"/%70ublic/x", "/pub%6Cic/x",
		"/public/../admin", "/public/./x", "/public//x", "//public/x",
		"/public", "/publicx/y", "/admin",
	}
	for name, router := range routers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(build(t, router, authn))
			t.Cleanup(srv.Close)
			for _, path := range []string{"/public/", "/public/x", "/public/a/b", "/public/my%20file.txt"} {
				if status, body := rawGet(t, srv, path); status != http.StatusOK || body != "public" {
					t.Errorf("GET %s = %d %q, want 200 from the public handler", path, status, body)
				}
			}
			for _, path := range attacks {
				if status, body := rawGet(t, srv, path); body == "protected" {
					t.Errorf("GET %s without a token reached the protected handler (%d)", path, status)
				}
			}
		})
	}
}

// rawGet sends "GET path" exactly as written, without a token, and returns
// the status and body.
func rawGet(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, strings.TrimSpace(b.String())
}

func TestSkipEntriesMustBeAbleToMatch(t *testing.T) {
	t.Parallel()
	for _, entry := range []string{"healthz", "/a/../b", "/a/./b", "/a//b", "//", "/a%2Fb"} {
		if _, err := middleware.NewAuthenticate(staticUnified(t), middleware.AuthOptions{Skip: []string{entry}}); err == nil {
			t.Errorf("Skip entry %q was accepted", entry)
		}
	}
	// An entry with characters that need escaping matches the path a client
	// sends for it.
	authn, err := middleware.NewAuthenticate(staticUnified(t), middleware.AuthOptions{Skip: []string{"/my page", "/café/"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(build(t, whoAmI(), authn))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/my%20page", "/caf%C3%A9/menu"} {
		if status, body := rawGet(t, srv, path); status != http.StatusOK || body != "anonymous" {
			t.Errorf("GET %s = %d %q, want it skipped", path, status, body)
		}
	}
}
