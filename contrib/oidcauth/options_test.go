package oidcauth_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
)

func TestNewValidatesIssuerAndOptions(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	ok := oidcauth.Options{Audience: audienceChat, Logger: quiet()}
	with := func(edit func(*oidcauth.Options)) oidcauth.Options {
		o := ok
		edit(&o)
		return o
	}
	tests := []struct {
		name    string
		issuer  string
		opts    oidcauth.Options
		wantErr error
	}{
		{"valid", p.issuer, ok, nil},
		{"no audience", p.issuer, with(func(o *oidcauth.Options) { o.Audience = "" }), oidcauth.ErrInvalidOptions},
		{"leeway over the bound", p.issuer, with(func(o *oidcauth.Options) { o.Leeway = oidcauth.MaxLeeway + time.Second }), oidcauth.ErrInvalidOptions},
		{"negative leeway", p.issuer, with(func(o *oidcauth.Options) { o.Leeway = -time.Second }), oidcauth.ErrInvalidOptions},
		{"negative timeout", p.issuer, with(func(o *oidcauth.Options) { o.Timeout = -1 }), oidcauth.ErrInvalidOptions},
		{"refresh interval past key max age", p.issuer, with(func(o *oidcauth.Options) { o.RefreshInterval, o.KeyMaxAge = time.Hour, time.Minute }), oidcauth.ErrInvalidOptions},
		{"negative response bound", p.issuer, with(func(o *oidcauth.Options) { o.MaxResponseBytes = -1 }), oidcauth.ErrInvalidOptions},
		{"empty algorithm list", p.issuer, with(func(o *oidcauth.Options) { o.Algorithms = []string{} }), oidcauth.ErrInvalidOptions},
		{"http issuer off loopback", "http://login.example.com", ok, oidcauth.ErrInvalidOptions},
		{"relative issuer", "login.example.com", ok, oidcauth.ErrInvalidOptions},
		{"issuer with a query", p.issuer + "?tenant=a", ok, oidcauth.ErrInvalidOptions},
		{"issuer with user info", "https://user:pw@login.example.com", ok, oidcauth.ErrInvalidOptions},
		// The discovery document names the issuer without the slash.
		{"issuer the document does not name", p.issuer + "/", ok, oidcauth.ErrDiscovery},
		{"no provider there", "http://" + closedAddr(t), ok, auth.ErrUnavailable},
		{"response over the bound", p.issuer, with(func(o *oidcauth.Options) { o.MaxResponseBytes = 64 }), auth.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := oidcauth.New(t.Context(), tt.issuer, tt.opts)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("New() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// closedAddr returns a 127.0.0.1 address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
