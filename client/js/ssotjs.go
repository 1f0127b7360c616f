// Package ssotjs serves ssot.js, the browser client of ssot's WebSocket
// and server-sent events endpoints, from a Go server: the file of this
// directory as it is, embedded at build time, with no build step of its
// own. Its README is beside it.
//
//	mux.Handle("GET /static/ssot.js", ssotjs.Handler())
//
// and in the page:
//
//	import { Client } from "/static/ssot.js";
package ssotjs

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

//go:embed ssot.js
var source string

// Source returns ssot.js.
func Source() string { return source }

// Handler returns an http.Handler that serves ssot.js, whatever the
// request's path, as text/javascript with an ETag of its content, so that
// a browser revalidates its copy and gets 304 while it is current, and
// every new release of the module reaches it. It answers GET and HEAD,
// and 405 to other methods.
func Handler() http.Handler {
	sum := sha256.Sum256([]byte(source))
	return &handler{etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

type handler struct{ etag string }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("ETag", h.etag)
	hd.Set("Cache-Control", "no-cache") // revalidate: 304 while the ETag matches
	http.ServeContent(w, r, "ssot.js", time.Time{}, strings.NewReader(source))
}
