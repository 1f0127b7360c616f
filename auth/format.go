package auth

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ssotkit/ssot/internal/safefmt"
)

// The types below hold a secret or personal data. Each prints one
// description that holds neither, whatever the fmt verb (Format) or the
// log/slog handler (LogValue).

// GoString returns String, so %#v prints no e-mail address or scopes either.
func (id Identity) GoString() string { return id.String() }

// Format prints String for every verb.
func (id Identity) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, id.String()) }

// LogValue lets log/slog print the user ID alone.
func (id Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user_id", id.UserID))
}

// String returns the options with ClientSecret shown as "[REDACTED]" when
// it is set.
func (o IntrospectionOptions) String() string {
	return "auth.IntrospectionOptions{ClientID: " + strconv.Quote(o.ClientID) +
		", ClientSecret: " + safefmt.Secret(o.ClientSecret != "") + ", MaxBody: " + strconv.FormatInt(o.MaxBody, 10) + "}"
}

// GoString returns String.
func (o IntrospectionOptions) GoString() string { return o.String() }

// Format prints String for every verb.
func (o IntrospectionOptions) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, o.String()) }

// LogValue lets log/slog print the options without the client secret.
func (o IntrospectionOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", o.ClientID),
		slog.String("client_secret", safefmt.Secret(o.ClientSecret != "")),
		slog.Int64("max_body", o.MaxBody))
}

// String names the endpoint (scheme, host and path: never a user, password
// or query) and the client ID.
func (c *Introspection) String() string {
	return "auth.Introspection{endpoint: " + c.shownEndpoint + ", ClientID: " + strconv.Quote(c.opts.ClientID) + "}"
}

// GoString returns String.
func (c *Introspection) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Introspection) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// LogValue lets log/slog print the endpoint and client ID, never the client
// secret.
func (c *Introspection) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("endpoint", c.shownEndpoint), slog.String("client_id", c.opts.ClientID))
}

// String names the backend's type and nothing it holds: not the key of the
// cache's hash, nor a cached identity.
func (u *Unified) String() string { return fmt.Sprintf("auth.Unified{backend: %T}", u.backend) }

// GoString returns String.
func (u *Unified) GoString() string { return u.String() }

// Format prints String for every verb.
func (u *Unified) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, u.String()) }

// LogValue lets log/slog print the backend's type alone.
func (u *Unified) LogValue() slog.Value {
	if u == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("backend", fmt.Sprintf("%T", u.backend)))
}

// String counts the tokens; it never shows one or its identity.
func (s *static) String() string { return "auth.NewStatic(" + strconv.Itoa(len(s.ids)) + " tokens)" }

// GoString returns String.
func (s *static) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *static) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, s.String()) }

// LogValue lets log/slog print the number of tokens alone.
func (s *static) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Int("tokens", len(s.ids)))
}

var (
	_ fmt.Formatter  = Identity{}
	_ slog.LogValuer = Identity{}
	_ fmt.Formatter  = IntrospectionOptions{}
	_ slog.LogValuer = IntrospectionOptions{}
	_ fmt.Formatter  = (*Introspection)(nil)
	_ slog.LogValuer = (*Introspection)(nil)
	_ fmt.Formatter  = (*Unified)(nil)
	_ slog.LogValuer = (*Unified)(nil)
	_ fmt.Formatter  = (*static)(nil)
	_ slog.LogValuer = (*static)(nil)
)
