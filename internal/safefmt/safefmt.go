// Package safefmt prints values that hold secrets or personal data through
// one description that holds neither, whatever the fmt verb: the library's
// types call it from their Format methods, so that %v, %+v, %#v, %s, %x and
// every other verb print the same safe text as their String method.
package safefmt

import (
	"fmt"
	"io"
	"strconv"
)

// Redacted is how a secret that is set appears in a description, the one
// text for it across the library (env.Redacted is this constant).
const Redacted = "[REDACTED]"

// Format writes s to f for every verb and flag: %q quotes it, every other
// verb writes it as it is. It never looks at the value s describes.
func Format(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// Secret is how a secret appears in a description: Redacted when it is
// set, "none" when it is not (an unset secret is worth seeing).
func Secret(set bool) string {
	if set {
		return Redacted
	}
	return "none"
}
