package brokerkit

import (
	"encoding/base64"
	"strings"
)

// MaxUserIDLen is the longest user ID a broker accepts, wsmanager's own
// bound: no connection can have a longer one.
const MaxUserIDLen = 256

// ValidUser reports whether userID may be published: 1 to MaxUserIDLen
// bytes.
func ValidUser(userID string) bool { return userID != "" && len(userID) <= MaxUserIDLen }

// Topic returns the topic of a user: the prefix, a dot, and the user ID
// encoded as one base64url token. User IDs can hold anything, dots,
// wildcards and glob characters included; base64url's alphabet
// (A–Z a–z 0–9 - _) is none of those, so no user ID can widen a
// subscription or reach another user's topic, and the encoding is
// reversible.
func Topic(prefix, userID string) string {
	return prefix + "." + base64.RawURLEncoding.EncodeToString([]byte(userID))
}

// UserFromTopic reverses Topic; it reports false for a topic that Topic did
// not produce with this prefix.
func UserFromTopic(prefix, topic string) (string, bool) {
	// Cut in two steps: prefix+"." would build a string for every message
	// received.
	rest, ok := strings.CutPrefix(topic, prefix)
	token, dot := strings.CutPrefix(rest, ".")
	if !ok || !dot || token == "" || strings.Contains(token, ".") {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}
