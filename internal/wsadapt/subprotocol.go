package wsadapt

import (
	"net/http"
	"strings"
)

// Subprotocol returns want if the request offers it in a
// Sec-WebSocket-Protocol header, and "" otherwise. An adapter echoes only
// this: never another offered subprotocol, which may carry a token.
func Subprotocol(r *http.Request, want string) string {
	if want == "" {
		return ""
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == want {
				return want
			}
		}
	}
	return ""
}
