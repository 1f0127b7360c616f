package auth

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// Source says where a token was found. Its zero value is SourceNone.
type Source uint8

// The token sources, in the order Extractor looks at them.
const (
	SourceNone        Source = iota // no token; returned with errors
	SourceHeader                    // Authorization: Bearer <token>
	SourceSubprotocol               // Sec-WebSocket-Protocol: <prefix><base64url token>
	SourceQuery                     // ?token=<token>, only with AllowQuery
)

// String returns "none", "header", "subprotocol" or "query".
func (s Source) String() string {
	switch s {
	case SourceHeader:
		return "header"
	case SourceSubprotocol:
		return "subprotocol"
	case SourceQuery:
		return "query"
	default:
		return "none"
	}
}

// DefaultSubprotocolPrefix is the Sec-WebSocket-Protocol prefix of a token
// entry when Extractor.SubprotocolPrefix is empty.
const DefaultSubprotocolPrefix = "bearer."

// DefaultMaxTokenLen is the longest token accepted when Extractor.MaxLen is
// zero.
const DefaultMaxTokenLen = 8192

// Extractor finds the bearer token of an HTTP request. The zero value reads
// the Authorization header and the WebSocket subprotocol with the defaults
// below, and never the query string. An Extractor is a value with no state:
// safe for concurrent use.
type Extractor struct {
	// SubprotocolPrefix marks the Sec-WebSocket-Protocol entry that carries
	// the token, base64url-encoded without padding, because browsers cannot
	// set headers on a WebSocket. Defaults to DefaultSubprotocolPrefix.
	SubprotocolPrefix string
	// AllowQuery accepts "?token=" as a last resort. Off by default: URLs end
	// up in access logs, proxies and browser history.
	AllowQuery bool
	// MaxLen is the longest token accepted, in bytes. Defaults to
	// DefaultMaxTokenLen.
	MaxLen int
}

// Token returns the request's token and where it was found. It looks at, in
// order, the Authorization header (scheme "Bearer", matched
// case-insensitively), the Sec-WebSocket-Protocol entry starting with
// SubprotocolPrefix, and, with AllowQuery, the "token" query parameter.
//
// It returns ErrNoToken when there is no token or it is empty, and
// ErrInvalidToken for a token longer than MaxLen, containing spaces or
// control characters, or badly encoded, and for a subprotocol list with more
// than one token entry; ErrTokenProtocolAlone (also ErrInvalidToken) for a
// token entry with no other protocol for the server to echo.
// Errors never contain the token.
func (x Extractor) Token(r *http.Request) (token string, src Source, err error) {
	token, src, _, err = x.TokenProtocol(r)
	return token, src, err
}

// TokenProtocol is Token that also returns, for a token found in the
// subprotocol list, the first other protocol the client offered: the one a
// server may echo in its handshake response. Echoing the token entry itself
// would send the token back in a header; browsers fail a handshake whose
// response selects no protocol they offered, so a token entry alone is
// rejected.
func (x Extractor) TokenProtocol(r *http.Request) (token string, src Source, protocol string, err error) {
	maxLen := x.MaxLen
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenLen
	}
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", SourceNone, "", &classError{class: ErrInvalidToken, detail: "more than one Authorization header"}
		}
		scheme, tok, ok := strings.Cut(h[0], " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimLeft(tok, " ")
			if err := checkToken(tok, maxLen); err != nil {
				return "", SourceNone, "", err
			}
			return tok, SourceHeader, "", nil
		}
		// Another scheme (Basic, say) is not ours: fall through to the
		// other sources rather than guess.
	}
	if lists := r.Header.Values("Sec-WebSocket-Protocol"); len(lists) > 0 {
		tok, proto, found, err := x.fromSubprotocols(lists, maxLen)
		if err != nil {
			return "", SourceNone, "", err
		}
		if found {
			return tok, SourceSubprotocol, proto, nil
		}
	}
	if x.AllowQuery && r.URL != nil {
		if vals, ok := r.URL.Query()["token"]; ok {
			if len(vals) != 1 {
				return "", SourceNone, "", &classError{class: ErrInvalidToken, detail: "more than one token parameter"}
			}
			if err := checkToken(vals[0], maxLen); err != nil {
				return "", SourceNone, "", err
			}
			return vals[0], SourceQuery, "", nil
		}
	}
	return "", SourceNone, "", ErrNoToken
}

func (x Extractor) fromSubprotocols(lists []string, maxLen int) (token, protocol string, found bool, err error) {
	prefix := x.SubprotocolPrefix
	if prefix == "" {
		prefix = DefaultSubprotocolPrefix
	}
	var encoded string
	for _, list := range lists {
		for entry := range strings.SplitSeq(list, ",") {
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			if !strings.HasPrefix(entry, prefix) {
				if protocol == "" {
					protocol = entry
				}
				continue
			}
			if found {
				return "", "", false, &classError{class: ErrInvalidToken, detail: "more than one token subprotocol"}
			}
			encoded, found = entry[len(prefix):], true
		}
	}
	if !found {
		return "", "", false, nil
	}
	if protocol == "" {
		return "", "", false, ErrTokenProtocolAlone
	}
	if encoded == "" {
		return "", "", false, ErrNoToken
	}
	if len(encoded) > base64.RawURLEncoding.EncodedLen(maxLen) {
		return "", "", false, &classError{class: ErrInvalidToken, detail: "token too long"}
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false, &classError{class: ErrInvalidToken, detail: "token subprotocol is not base64url"}
	}
	token = string(raw)
	if err := checkToken(token, maxLen); err != nil {
		return "", "", false, err
	}
	return token, protocol, true, nil
}

// checkToken rejects, without parsing further, tokens that are empty, too
// long, or contain spaces or control characters.
func checkToken(tok string, maxLen int) error {
	if tok == "" {
		return ErrNoToken
	}
	if len(tok) > maxLen {
		return &classError{class: ErrInvalidToken, detail: "token too long"}
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c == 0x7f {
			return &classError{class: ErrInvalidToken, detail: "token contains spaces or control characters"}
		}
	}
	return nil
}

// SubprotocolToken encodes token as the Sec-WebSocket-Protocol entry a
// client offers, with the given prefix (DefaultSubprotocolPrefix if empty).
func SubprotocolToken(prefix, token string) string {
	if prefix == "" {
		prefix = DefaultSubprotocolPrefix
	}
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(token))
}
