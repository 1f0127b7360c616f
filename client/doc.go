// Package client holds the tests of ssot.js, the browser client of ssot's
// endpoints, which lives in js/ with its README and package ssotjs, which
// serves it from a Go server: they serve it from real ssot servers over
// 127.0.0.1 and drive it in headless Chromium. This package has no Go API.
package client
