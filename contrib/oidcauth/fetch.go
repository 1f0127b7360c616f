package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssotkit/ssot/auth"
)

// fetcher GETs the provider's JSON documents.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
	maxBody int64
}

// errMalformed marks a response that arrived but is not the JSON document
// asked for.
const errMalformed = sentinel("oidcauth: malformed response")

// getJSON GETs rawURL and decodes its JSON body into dst, within the
// fetcher's timeout. A transport error, a status other than 200 or an
// oversized body wraps auth.ErrUnavailable; a body that is not JSON wraps
// errMalformed. No error quotes the body.
func (f *fetcher) getJSON(ctx context.Context, what, rawURL string, dst any) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %s request: %w", auth.ErrUnavailable, what, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s unreachable: %w", auth.ErrUnavailable, what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, f.maxBody))
		return fmt.Errorf("%w: %s answered %d", auth.ErrUnavailable, what, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		return fmt.Errorf("%w: reading the %s: %w", auth.ErrUnavailable, what, err)
	}
	if int64(len(body)) > f.maxBody {
		return fmt.Errorf("%w: %s larger than %d bytes", auth.ErrUnavailable, what, f.maxBody)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		// The JSON error can quote the body: keep it out.
		return fmt.Errorf("%w: %s is not the JSON document expected", errMalformed, what)
	}
	return nil
}

// checkURL reports whether rawURL is an absolute https URL, or an http URL
// whose host is a loopback address or "localhost": OpenID Connect requires
// TLS, and plain http is for a provider on the same machine.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("not an absolute URL without user info, query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("not https (http is allowed for a loopback host only)")
}

// guardRedirects returns a copy of client whose redirects may not leave
// https (when the request was https) or go to an origin other than the
// issuer's or the requested URL's: a key set served anywhere else would
// vouch for tokens the provider never signed. The client's own
// CheckRedirect, if any, then decides; without one, the policy of
// http.Client (at most ten redirects) applies.
func guardRedirects(client *http.Client, issuer *url.URL) *http.Client {
	guarded := *client
	next := client.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from := via[0].URL
		switch {
		case from.Scheme == "https" && req.URL.Scheme != "https":
			return fmt.Errorf("%w: from https to %s", ErrRedirect, req.URL.Scheme)
		case !sameOrigin(req.URL, from) && !sameOrigin(req.URL, issuer):
			return fmt.Errorf("%w: to another origin than the issuer's or the requested URL's", ErrRedirect)
		case next != nil:
			return next(req, via)
		case len(via) >= 10:
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
