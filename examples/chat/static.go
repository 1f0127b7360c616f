package main

import (
	"embed"
	"io/fs"
	"net/http"
)

// staticFiles is the single-page UI. go:embed needs a package-level
// variable; embed.FS is read-only, so this is not mutable state.
//
//go:embed static
var staticFiles embed.FS

// staticHandler serves the UI: / is static/index.html and /static/ the
// files it loads.
func staticHandler() (http.Handler, error) {
	index, err := fs.ReadFile(staticFiles, "static/index.html")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(staticFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(index)
			return
		}
		files.ServeHTTP(w, r)
	}), nil
}
