package natsbroker

import (
	"strings"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

// DefaultPrefix is the subject prefix when Options.Prefix is empty.
const DefaultPrefix = "ssot.wsmanager.user"

// subject returns the subject of a user: the prefix and the user ID encoded
// as one base64url token (see brokerkit.Topic), which a NATS subject token
// can hold: no '.', '*', '>' or white space.
func subject(prefix, userID string) string { return brokerkit.Topic(prefix, userID) }

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
