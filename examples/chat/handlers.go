package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ssotkit/ssot/auth"
)

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
}

// maxUserName is the longest user name the development login accepts.
const maxUserName = 32

// validUserName accepts 1 to 32 letters, digits, dots, dashes and
// underscores: names that are safe to display and log.
func validUserName(s string) bool {
	if len(s) == 0 || len(s) > maxUserName {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

type loginRequest struct {
	User string `json:"user"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	User      string    `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// devLogin mints a short-lived token for any user name. It exists only in
// Development: everywhere else it answers 403, so a staging or production
// deployment can never hand out identities.
func (a *app) devLogin(w http.ResponseWriter, r *http.Request) {
	if a.signer == nil {
		writeJSON(w, http.StatusForbidden, errorBody{Error: "the development login is disabled in " + a.cfg.Environment.String()})
		return
	}
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || !validUserName(req.User) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "send {\"user\": name}, 1-32 letters, digits, '.', '-' or '_'"})
		return
	}
	now := time.Now()
	token, err := a.signer.Sign(auth.Identity{UserID: req.User, Scopes: []string{"chat"}}, now, a.cfg.DevTokenTTL)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "cannot mint a token"})
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{Token: token, User: req.User, ExpiresAt: now.Add(a.cfg.DevTokenTTL).UTC().Truncate(time.Second)})
}

type meResponse struct {
	User      string    `json:"user"`
	Email     string    `json:"email,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// me returns the identity the auth middleware established.
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok {
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, meResponse{User: id.UserID, Email: id.Email, Scopes: id.Scopes, ExpiresAt: id.ExpiresAt})
}
