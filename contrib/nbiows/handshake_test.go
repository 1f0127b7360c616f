package nbiows_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssotkit/ssot/contrib/nbiows"
)

// TestUpgradeRefuses: requests that are not WebSocket handshakes the
// engine can take are answered with an HTTP error and ErrUpgrade.
func TestUpgradeRefuses(t *testing.T) {
	t.Parallel()
	up := newNbioUpgrader(t, nbiows.Options{})
	handshake := func(edit func(r *http.Request)) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://app.test/ws", nil)
		r.Header.Set("Connection", "keep-alive, Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Version", "13")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		edit(r)
		return r
	}
	tests := []struct {
		name       string
		edit       func(r *http.Request)
		wantStatus int
	}{
		{"not GET", func(r *http.Request) { r.Method = http.MethodPost }, http.StatusBadRequest},
		{"no Connection: upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, http.StatusBadRequest},
		{"no Upgrade: websocket", func(r *http.Request) { r.Header.Del("Upgrade") }, http.StatusBadRequest},
		{"another version", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, http.StatusUpgradeRequired},
		{"malformed key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "short") }, http.StatusBadRequest},
		{"over TLS", func(r *http.Request) { r.TLS = &tls.ConnectionState{} }, http.StatusNotImplemented},
		{"other origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			_, err := up.Upgrade(w, handshake(tt.edit), "")
			if !errors.Is(err, nbiows.ErrUpgrade) || w.Code != tt.wantStatus {
				t.Errorf("Upgrade = %v with %d, want ErrUpgrade with %d", err, w.Code, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusUpgradeRequired && w.Header().Get("Sec-WebSocket-Version") != "13" {
				t.Errorf("426 without Sec-WebSocket-Version: 13")
			}
		})
	}
	t.Run("a recorder cannot be hijacked", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		if _, err := up.Upgrade(w, handshake(func(*http.Request) {}), ""); !errors.Is(err, nbiows.ErrUpgrade) || w.Code != http.StatusInternalServerError {
			t.Errorf("Upgrade = %v with %d, want ErrUpgrade with 500", err, w.Code)
		}
	})
}
