package main

import (
	"log/slog"
	"net/http"

	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/wsmanager"
)

// requireValidResume refuses a WebSocket request whose resume position
// wsmanager.ParsePosition rejects, before it reaches the endpoint, and logs
// the refusal at Info. With closeAfterUpgrade it upgrades the request only
// to close it with 1008 "invalid resume position", which a browser can
// read, as the endpoint refuses a bad token; without it, it answers 400.
// up must be the loggingUpgrader, which logs the close.
func requireValidResume(up wsmanager.Upgrader, closeAfterUpgrade bool, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := wsmanager.ParsePosition(r.URL.Query().Get("resume")); err == nil {
				next.ServeHTTP(w, r)
				return
			}
			if closeAfterUpgrade {
				if c, err := up.Upgrade(w, r, subprotocol); err == nil && c != nil {
					_ = c.Close(1008, "invalid resume position")
				}
				return
			}
			id, _ := middleware.RequestIDFrom(r.Context())
			logger.InfoContext(r.Context(), "chat: websocket refused", "room", roomOf(r), "status", http.StatusBadRequest, "reason", "invalid resume position", "request_id", id)
			http.Error(w, "invalid resume position", http.StatusBadRequest)
		})
	}
}
