package auth_test

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

// FuzzExtractor throws arbitrary Authorization headers, subprotocol lists and
// query strings at the extractor. It must not panic; a token it returns must
// be non-empty, within MaxLen and free of spaces and control characters; and
// an error must be one of the documented sentinels without the token in it.
func FuzzExtractor(f *testing.F) {
	f.Add("Bearer abc.def.ghi", "", "")
	f.Add("bearer  x", "chat, bearer.YWJj", "token=q")
	f.Add("", "bearer.YWJj", "")
	f.Add("", "a,,b, bearer., bearer.!!", "token=a&token=b")
	f.Add("Basic Zm9vOmJhcg==", "chat,"+auth.SubprotocolToken("", "tok\x00en"), "token=%00")
	f.Fuzz(func(t *testing.T, authorization, protocols, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if protocols != "" {
			r.Header["Sec-Websocket-Protocol"] = []string{protocols}
		}
		x := auth.Extractor{AllowQuery: true, MaxLen: 64}
		tok, src, proto, err := x.TokenProtocol(r)
		if err != nil {
			if !errors.Is(err, auth.ErrNoToken) && !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("undocumented error %v", err)
			}
			if tok != "" || src != auth.SourceNone {
				t.Fatalf("error with a token or source: %q %v", tok, src)
			}
			for _, candidate := range []string{authorization, protocols, query} {
				if len(candidate) > 12 && strings.Contains(err.Error(), candidate) {
					t.Fatalf("error %q contains its input", err)
				}
			}
			return
		}
		if tok == "" || len(tok) > 64 {
			t.Fatalf("token of length %d", len(tok))
		}
		for i := 0; i < len(tok); i++ {
			if tok[i] <= ' ' || tok[i] == 0x7f {
				t.Fatalf("token with byte %#x", tok[i])
			}
		}
		switch src {
		case auth.SourceHeader, auth.SourceQuery:
			if proto != "" {
				t.Fatalf("protocol %q for source %v", proto, src)
			}
			if src == auth.SourceQuery {
				if v, _ := url.ParseQuery(query); v.Get("token") != tok {
					t.Fatalf("query token %q not from the query", tok)
				}
			}
		case auth.SourceSubprotocol:
			if proto == "" || strings.HasPrefix(proto, auth.DefaultSubprotocolPrefix) {
				t.Fatalf("echo protocol %q", proto)
			}
		default:
			t.Fatalf("source %v with a token", src)
		}
	})
}
