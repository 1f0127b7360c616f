package wsadapt

import (
	"time"
	"unicode/utf8"
)

// CloseTimeout bounds the close handshake of an adapter's Close, and each
// pong and close frame its reader writes: coder/websocket's own bound, so
// that every adapter gives a peer as long.
const CloseTimeout = 5 * time.Second

// MaxReason is the longest close reason, in bytes, that fits in a close frame:
// a control frame carries at most 125 bytes, two of which are the code.
const MaxReason = 123

// ValidCode reports whether code may be sent in a close frame (RFC 6455
// section 7.4). 1005, 1006 and 1015 are reserved for reporting a missing code,
// an abnormal closure and a TLS failure locally and must never be sent.
func ValidCode(code int) bool {
	switch code {
	case 1004, 1005, 1006, 1015:
		return false
	}
	return (code >= 1000 && code <= 1014) || (code >= 3000 && code <= 4999)
}

// Reason returns reason cut to at most MaxReason bytes without splitting a
// UTF-8 sequence, so a long reason still closes the connection instead of
// failing the close.
func Reason(reason string) string {
	if len(reason) <= MaxReason {
		return reason
	}
	cut := MaxReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}
