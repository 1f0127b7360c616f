package main

import (
	"bytes"
	"os"
	"testing"
)

// TestStaticSSOTIsTheClient: the page's ssot.js is a copy of the
// repository's client/js/ssot.js, served as is; this test keeps the copy
// from drifting. After changing the client, copy it again:
//
//	cp client/js/ssot.js examples/chat/static/ssot.js
func TestStaticSSOTIsTheClient(t *testing.T) {
	t.Parallel()
	canonical, err := os.ReadFile("../../client/js/ssot.js")
	if err != nil {
		t.Fatal(err)
	}
	served, err := staticFiles.ReadFile("static/ssot.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, served) {
		t.Error("examples/chat/static/ssot.js differs from client/js/ssot.js: cp client/js/ssot.js examples/chat/static/ssot.js")
	}
}
