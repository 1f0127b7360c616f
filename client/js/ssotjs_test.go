package ssotjs_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	ssotjs "github.com/ssotkit/ssot/client/js"
)

// The handler serves the file of this directory, byte for byte, and
// answers a browser's revalidation with 304.
func TestHandler(t *testing.T) {
	file, err := os.ReadFile("ssot.js")
	if err != nil {
		t.Fatal(err)
	}
	if ssotjs.Source() != string(file) {
		t.Fatal("Source differs from ssot.js")
	}
	srv := httptest.NewServer(ssotjs.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/static/ssot.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(file) {
		t.Fatalf("GET: %d, %d bytes; want 200 and the file", resp.StatusCode, len(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q: browsers refuse a module of another type", ct)
	}
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/static/ssot.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating with ETag %q: %d, want 304", etag, resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, srv.URL, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /static/ssot.js", ssotjs.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/static/ssot.js")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	fmt.Println(strings.Contains(string(body), "export class Client"))
	// Output:
	// 200 text/javascript; charset=utf-8
	// true
}
