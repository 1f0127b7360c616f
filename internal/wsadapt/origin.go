package wsadapt

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Validate reports the first pattern that path.Match cannot parse.
func Validate(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("origin pattern %q: %w", p, err)
		}
	}
	return nil
}

// Allowed reports whether r may be upgraded: it has no Origin header (a
// client that is not a browser), its origin's host is the request's host, or
// the origin matches one of patterns. A pattern is matched case-insensitively
// with path.Match against the origin's host, or against "scheme://host" when
// it contains "://". Patterns must have passed Validate.
func Allowed(r *http.Request, patterns []string) bool {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return true
	}
	if len(values) > 1 {
		return false
	}
	u, err := url.Parse(values[0])
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// CheckOrigin reports whether r may be upgraded, as Allowed does, and
// answers a refused request with 403 Forbidden.
func CheckOrigin(w http.ResponseWriter, r *http.Request, patterns []string) bool {
	if Allowed(r, patterns) {
		return true
	}
	http.Error(w, "origin not allowed", http.StatusForbidden)
	return false
}
