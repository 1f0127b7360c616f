package natsbroker

import (
	"encoding/base64"
	"strings"
)

// DefaultPrefix is the subject prefix when Options.Prefix is empty.
const DefaultPrefix = "ssot.wsmanager.user"

// subject returns the subject of a user: the prefix and the user ID encoded
// as one base64url token. A NATS subject token cannot hold '.', '*', '>' or
// white space, and user IDs can hold anything; base64url's alphabet
// (A–Z a–z 0–9 - _) is safe in a token and the encoding is reversible.
func subject(prefix, userID string) string {
	return prefix + "." + base64.RawURLEncoding.EncodeToString([]byte(userID))
}

// userFromSubject reverses subject; it reports false for a subject that no
// Broker with this prefix produced.
func userFromSubject(prefix, subj string) (string, bool) {
	token, ok := strings.CutPrefix(subj, prefix+".")
	if !ok || token == "" || strings.Contains(token, ".") {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// validPrefix reports whether p is a literal NATS subject: dot-separated,
// non-empty tokens without wildcards or white space.
func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n\x00*>") {
			return false
		}
	}
	return true
}
