package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultIntrospectionMaxBody bounds an introspection response when
// IntrospectionOptions.MaxBody is zero.
const DefaultIntrospectionMaxBody = 64 << 10

// IntrospectionOptions configures an Introspection client. The zero value
// sends no client credentials and uses the default MaxBody. NewIntrospection
// copies it.
type IntrospectionOptions struct {
	// ClientID and ClientSecret, when set, are sent with HTTP basic
	// authentication (RFC 6749 section 2.3.1). A secret without an ID is
	// ErrInvalidOptions.
	ClientID     string
	ClientSecret string
	// MaxBody bounds the response body read, in bytes; a longer response is
	// ErrUnavailable. Defaults to DefaultIntrospectionMaxBody (64 KiB).
	MaxBody int64
}

// Introspection is an Authenticator that asks an OAuth 2.0 token
// introspection endpoint (RFC 7662) about each token. It is safe for
// concurrent use; its zero value is not usable: create it with
// NewIntrospection. Put it behind a Unified for caching, deduplication and a
// circuit breaker.
type Introspection struct {
	endpoint      string
	shownEndpoint string // scheme://host/path, for String
	client        *http.Client
	opts          IntrospectionOptions
}

var _ Authenticator = (*Introspection)(nil)

// NewIntrospection returns a client for the introspection endpoint, an
// absolute http or https URL. A nil client means a new http.Client with a 10s
// timeout, never http.DefaultClient, which is shared mutable state.
func NewIntrospection(endpoint string, client *http.Client, opts IntrospectionOptions) (*Introspection, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: introspection endpoint must be an absolute http or https URL", ErrInvalidOptions)
	}
	if opts.ClientSecret != "" && opts.ClientID == "" {
		return nil, fmt.Errorf("%w: ClientSecret without ClientID", ErrInvalidOptions)
	}
	switch {
	case opts.MaxBody < 0:
		return nil, fmt.Errorf("%w: negative MaxBody", ErrInvalidOptions)
	case opts.MaxBody == 0:
		opts.MaxBody = DefaultIntrospectionMaxBody
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()
	return &Introspection{endpoint: endpoint, shownEndpoint: shown, client: client, opts: opts}, nil
}

// maxUnixSeconds bounds "exp" (year 36812) so that it converts exactly.
const maxUnixSeconds = 1 << 40

// introspectionResponse holds the RFC 7662 members this client maps.
type introspectionResponse struct {
	Active   *bool   `json:"active"`
	Sub      string  `json:"sub"`
	Username string  `json:"username"`
	Email    string  `json:"email"`
	Scope    string  `json:"scope"`
	Exp      float64 `json:"exp"`
}

// Authenticate posts the token to the endpoint. An inactive token is
// ErrInvalidToken, an active one whose exp has passed is ErrExpired; a
// transport error, a non-2xx status, an oversized or malformed body, or a
// response without "active" is ErrUnavailable. The identity's UserID is
// "sub" (or "username" when "sub" is absent), its Scopes the space-separated
// "scope", its ExpiresAt "exp".
func (c *Introspection) Authenticate(ctx context.Context, token string) (Identity, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Identity{}, &classError{class: ErrUnavailable, detail: "introspection request", cause: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.opts.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(c.opts.ClientID), url.QueryEscape(c.opts.ClientSecret))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, never the form body.
		return Identity{}, &classError{class: ErrUnavailable, detail: "introspection endpoint unreachable", cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, c.opts.MaxBody))
		return Identity{}, &classError{class: ErrUnavailable, detail: fmt.Sprintf("introspection endpoint answered %d", resp.StatusCode)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBody+1))
	if err != nil {
		return Identity{}, &classError{class: ErrUnavailable, detail: "reading the introspection response", cause: err}
	}
	if int64(len(body)) > c.opts.MaxBody {
		return Identity{}, &classError{class: ErrUnavailable, detail: "introspection response too large"}
	}
	var ir introspectionResponse
	if err := json.Unmarshal(body, &ir); err != nil || ir.Active == nil {
		// The JSON error would quote the body: keep it out.
		return Identity{}, &classError{class: ErrUnavailable, detail: "malformed introspection response"}
	}
	if !*ir.Active {
		return Identity{}, &classError{class: ErrInvalidToken, detail: "token inactive"}
	}
	id := Identity{UserID: ir.Sub, Email: ir.Email, Scopes: strings.Fields(ir.Scope)}
	if id.UserID == "" {
		id.UserID = ir.Username
	}
	if ir.Exp < 0 || ir.Exp > maxUnixSeconds {
		return Identity{}, &classError{class: ErrUnavailable, detail: "malformed introspection response"}
	}
	if ir.Exp > 0 {
		id.ExpiresAt = time.Unix(int64(ir.Exp), 0)
		if !time.Now().Before(id.ExpiresAt) {
			return Identity{}, &classError{class: ErrExpired}
		}
	}
	if id.UserID == "" {
		return Identity{}, &classError{class: ErrInvalidToken, detail: "active token without a subject"}
	}
	return id, nil
}
