package middleware

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ssotkit/ssot/internal/safefmt"
)

// The types below hold session keys or session data. Each prints one
// description that holds neither, whatever the fmt verb (Format) or the
// log/slog handler (LogValue).

// String returns the options with the keys counted, never shown.
func (o SessionOptions) String() string {
	return "middleware.SessionOptions{Keys: " + shownKeys(len(o.Keys)) +
		", Environment: " + o.Environment.String() +
		", CookieName: " + strconv.Quote(o.CookieName) +
		", MaxAge: " + o.MaxAge.String() +
		", SameSite: " + strconv.Itoa(int(o.SameSite)) +
		", Path: " + strconv.Quote(o.Path) + "}"
}

// GoString returns String.
func (o SessionOptions) GoString() string { return o.String() }

// Format prints String for every verb.
func (o SessionOptions) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, o.String()) }

// LogValue lets log/slog print the options with the keys counted, never
// shown.
func (o SessionOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("keys", len(o.Keys)),
		slog.String("environment", o.Environment.String()),
		slog.String("cookie_name", o.CookieName),
		slog.Duration("max_age", o.MaxAge),
		slog.Int("same_site", int(o.SameSite)),
		slog.String("path", o.Path))
}

// String returns the options, with the session's keys counted, never shown.
func (o StandardOptions) String() string {
	session := "nil"
	if o.Session != nil {
		session = o.Session.String()
	}
	a := "nil"
	if o.Auth != nil {
		a = o.Auth.String()
	}
	return "middleware.StandardOptions{Session: " + session + ", Auth: " + a +
		", AuthOptions: {Skip: " + fmt.Sprintf("%q", o.AuthOptions.Skip) + ", Realm: " + strconv.Quote(o.AuthOptions.Realm) + "}}"
}

// GoString returns String.
func (o StandardOptions) GoString() string { return o.String() }

// Format prints String for every verb.
func (o StandardOptions) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, o.String()) }

// LogValue lets log/slog print the options, with the session's keys counted,
// never shown.
func (o StandardOptions) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Bool("auth", o.Auth != nil),
		slog.Any("skip", o.AuthOptions.Skip),
		slog.String("realm", o.AuthOptions.Realm),
	}
	if o.Session != nil {
		attrs = append(attrs, slog.Any("session", o.Session.LogValue()))
	}
	return slog.GroupValue(attrs...)
}

// String names the session's keys, never a value; the keys a service sets
// are its code's, the values its users' data.
func (s *SessionData) String() string {
	return "middleware.SessionData{Keys: [" + strings.Join(s.Keys(), " ") + "]}"
}

// GoString returns String.
func (s *SessionData) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *SessionData) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, s.String()) }

// LogValue lets log/slog print the session's keys, never a value.
func (s *SessionData) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Any("keys", s.Keys()))
}

// shownKeys is how a list of secret keys appears in a description.
func shownKeys(n int) string {
	if n == 0 {
		return safefmt.Secret(false)
	}
	return safefmt.Secret(true) + " (" + strconv.Itoa(n) + ")"
}

var (
	_ fmt.Formatter  = SessionOptions{}
	_ slog.LogValuer = SessionOptions{}
	_ fmt.Formatter  = StandardOptions{}
	_ slog.LogValuer = StandardOptions{}
	_ fmt.Formatter  = (*SessionData)(nil)
	_ slog.LogValuer = (*SessionData)(nil)
)
