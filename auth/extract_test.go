package auth_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

func TestExtractorToken(t *testing.T) {
	t.Parallel()
	const tok = "eyJhbGciOi.payload.sig"
	sub := auth.SubprotocolToken("", tok)
	tests := []struct {
		name     string
		x        auth.Extractor
		headers  map[string][]string
		query    string
		token    string
		src      auth.Source
		protocol string
		err      error
	}{
		{name: "bearer header", headers: map[string][]string{"Authorization": {"Bearer " + tok}}, token: tok, src: auth.SourceHeader},
		{name: "scheme case-insensitive", headers: map[string][]string{"Authorization": {"bearer " + tok}}, token: tok, src: auth.SourceHeader},
		{name: "scheme upper case", headers: map[string][]string{"Authorization": {"BEARER " + tok}}, token: tok, src: auth.SourceHeader},
		{name: "empty bearer", headers: map[string][]string{"Authorization": {"Bearer "}}, err: auth.ErrNoToken},
		{name: "basic is not ours", headers: map[string][]string{"Authorization": {"Basic dXNlcjpwdw=="}}, err: auth.ErrNoToken},
		{name: "two authorization headers", headers: map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}, err: auth.ErrInvalidToken},
		{name: "control character", headers: map[string][]string{"Authorization": {"Bearer ab\x01cd"}}, err: auth.ErrInvalidToken},
		{name: "inner space", headers: map[string][]string{"Authorization": {"Bearer ab cd"}}, err: auth.ErrInvalidToken},
		{name: "too long", x: auth.Extractor{MaxLen: 8}, headers: map[string][]string{"Authorization": {"Bearer 123456789"}}, err: auth.ErrInvalidToken},
		{name: "subprotocol", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat.v1, " + sub}}, token: tok, src: auth.SourceSubprotocol, protocol: "chat.v1"},
		{name: "subprotocol over two headers", headers: map[string][]string{"Sec-Websocket-Protocol": {sub, "chat.v2"}}, token: tok, src: auth.SourceSubprotocol, protocol: "chat.v2"},
		{name: "subprotocol custom prefix", x: auth.Extractor{SubprotocolPrefix: "tok-"}, headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, " + auth.SubprotocolToken("tok-", tok)}}, token: tok, src: auth.SourceSubprotocol, protocol: "chat"},
		{name: "subprotocol token alone", headers: map[string][]string{"Sec-Websocket-Protocol": {sub}}, err: auth.ErrInvalidToken},
		{name: "two token subprotocols", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, " + sub + ", " + sub}}, err: auth.ErrInvalidToken},
		{name: "subprotocol not base64url", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, bearer.***"}}, err: auth.ErrInvalidToken},
		{name: "subprotocol empty token", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, bearer."}}, err: auth.ErrNoToken},
		{name: "subprotocol decodes to control chars", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat, " + auth.SubprotocolToken("", "a\nb")}}, err: auth.ErrInvalidToken},
		{name: "subprotocols without a token", headers: map[string][]string{"Sec-Websocket-Protocol": {"chat"}}, err: auth.ErrNoToken},
		{name: "query refused by default", query: "token=" + tok, err: auth.ErrNoToken},
		{name: "query allowed", x: auth.Extractor{AllowQuery: true}, query: "token=" + tok, token: tok, src: auth.SourceQuery},
		{name: "query twice", x: auth.Extractor{AllowQuery: true}, query: "token=a&token=b", err: auth.ErrInvalidToken},
		{name: "header wins", x: auth.Extractor{AllowQuery: true}, headers: map[string][]string{"Authorization": {"Bearer h"}, "Sec-Websocket-Protocol": {"chat, " + sub}}, query: "token=q", token: "h", src: auth.SourceHeader},
		{name: "nothing", err: auth.ErrNoToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/ws?"+tt.query, nil)
			for k, vs := range tt.headers {
				r.Header[k] = vs
			}
			token, src, protocol, err := tt.x.TokenProtocol(r)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if token != tt.token || src != tt.src || protocol != tt.protocol {
				t.Errorf("got (%q, %v, %q), want (%q, %v, %q)", token, src, protocol, tt.token, tt.src, tt.protocol)
			}
			if err != nil {
				if src != auth.SourceNone {
					t.Errorf("an error came with source %v", src)
				}
				for _, secret := range []string{tok, "123456789", "ab\x01cd"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains the token", err)
					}
				}
			}
			t2, s2, err2 := tt.x.Token(r)
			if t2 != token || s2 != src || !errors.Is(err2, tt.err) {
				t.Errorf("Token disagrees with TokenProtocol: (%q, %v, %v)", t2, s2, err2)
			}
		})
	}
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	for s, want := range map[auth.Source]string{auth.SourceNone: "none", auth.SourceHeader: "header", auth.SourceSubprotocol: "subprotocol", auth.SourceQuery: "query"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}
