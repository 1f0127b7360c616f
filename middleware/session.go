package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ssotkit/ssot/env"
)

// MinKeyLen is the shortest session key Session accepts.
const MinKeyLen = 32

// SessionOptions configures Session, which copies it. The zero value has no
// keys and is ErrWeakSecret; every other field has a default.
type SessionOptions struct {
	// Keys authenticate and encrypt the cookie: the first seals, all open,
	// so a key can be rotated in without logging everyone out. Each must be
	// at least MinKeyLen (32) bytes of secret randomness; fewer keys than
	// one, or a shorter key, is ErrWeakSecret.
	Keys [][]byte
	// Environment decides Secure: cookies are Secure in env.Staging and
	// env.Production, and not in Development or Test, so plain-HTTP local
	// development works. A Name outside the four is ErrInvalid.
	Environment env.Name
	// CookieName defaults to "session". The value is bound to it: a cookie
	// copied under another name does not open.
	CookieName string
	// MaxAge is how long a session lives after it was last written.
	// Defaults to 24h; negative is ErrInvalid.
	MaxAge time.Duration
	// SameSite defaults to http.SameSiteLaxMode. http.SameSiteNoneMode on a
	// cookie that is not Secure is ErrInsecure: browsers drop such cookies.
	SameSite http.SameSite
	// Path defaults to "/".
	Path string
	// Logger receives sessions that could not be saved, never their
	// contents. Defaults to slog.Default() at the time Session is called.
	Logger *slog.Logger
}

type sessionKey struct{}

type sessionMW struct {
	codec    *codec
	name     string
	path     string
	maxAge   time.Duration
	secure   bool
	sameSite http.SameSite
	logger   *slog.Logger
}

// Session returns the "session" middleware: session data kept in a cookie
// that is encrypted and authenticated with AES-256-GCM, bound to its name,
// timestamped and expired after MaxAge. Handlers reach the data with
// SessionFrom.
//
// A tampered, truncated, expired, foreign or otherwise unreadable cookie
// yields a fresh empty session, never an error page. The cookie is written,
// HttpOnly always, only when the data changed (or Renew was called), just
// before the first byte of the response header; an unreadable cookie that is
// left empty is deleted. WebSocket upgrade requests pass straight through,
// without a session.
func Session(opts SessionOptions) (Middleware, error) {
	if len(opts.Keys) == 0 {
		return Middleware{}, fmt.Errorf("%w: session: no keys", ErrWeakSecret)
	}
	for i, k := range opts.Keys {
		if len(k) < MinKeyLen {
			return Middleware{}, fmt.Errorf("%w: session: key %d has %d bytes, need at least %d", ErrWeakSecret, i, len(k), MinKeyLen)
		}
	}
	if opts.Environment > env.Production {
		// Not knowing the environment must not mean a cookie without Secure.
		return Middleware{}, fmt.Errorf("%w: session: unknown Environment %d", ErrInvalid, uint8(opts.Environment))
	}
	m := &sessionMW{
		name:     opts.CookieName,
		path:     opts.Path,
		maxAge:   opts.MaxAge,
		secure:   opts.Environment == env.Staging || opts.Environment == env.Production,
		sameSite: opts.SameSite,
		logger:   opts.Logger,
	}
	if m.name == "" {
		m.name = "session"
	}
	if err := (&http.Cookie{Name: m.name, Value: "x"}).Valid(); err != nil {
		return Middleware{}, fmt.Errorf("%w: session: CookieName is not a valid cookie name", ErrInvalid)
	}
	switch {
	case m.maxAge < 0:
		return Middleware{}, fmt.Errorf("%w: session: negative MaxAge", ErrInvalid)
	case m.maxAge == 0:
		m.maxAge = 24 * time.Hour
	case m.maxAge < time.Second:
		return Middleware{}, fmt.Errorf("%w: session: MaxAge under one second", ErrInvalid)
	}
	if m.path == "" {
		m.path = "/"
	}
	if !strings.HasPrefix(m.path, "/") {
		return Middleware{}, fmt.Errorf("%w: session: Path must start with /", ErrInvalid)
	}
	if m.sameSite == 0 || m.sameSite == http.SameSiteDefaultMode {
		m.sameSite = http.SameSiteLaxMode
	}
	if m.sameSite == http.SameSiteNoneMode && !m.secure {
		return Middleware{}, fmt.Errorf("%w: session: SameSite=None needs a Secure cookie (Staging or Production)", ErrInsecure)
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	var err error
	if m.codec, err = newCodec(m.name, opts.Keys, m.maxAge); err != nil {
		return Middleware{}, fmt.Errorf("%w: session: %v", ErrInvalid, err)
	}
	return Middleware{Name: "session", Wrap: m.wrap}, nil
}

// SessionFrom returns the session that Session stored in ctx. It returns
// false outside Session and for WebSocket upgrade requests.
func SessionFrom(ctx context.Context) (*SessionData, bool) {
	s, ok := ctx.Value(sessionKey{}).(*SessionData)
	return s, ok
}

func (m *sessionMW) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		s := m.load(r)
		hw := &hookWriter{ResponseWriter: w, before: s.writeCookie}
		next.ServeHTTP(hw, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
		hw.start() // nothing written yet: the cookie goes out with net/http's implicit header
	})
}

func (m *sessionMW) load(r *http.Request) *SessionData {
	s := &SessionData{m: m}
	cookies := r.CookiesNamed(m.name)
	if len(cookies) == 0 {
		return s
	}
	now := time.Now()
	for _, c := range cookies {
		if values, ok := m.codec.open(c.Value, now); ok {
			s.values = values
			s.fromCookie = true
			return s
		}
	}
	s.unreadable = true
	return s
}

// isUpgrade reports whether r asks for a WebSocket upgrade.
func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
