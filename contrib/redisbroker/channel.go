package redisbroker

import "strings"

// DefaultPrefix is the channel prefix when Options.Prefix is empty.
const DefaultPrefix = "ssot.wsmanager.user"

// validPrefix reports whether p can start the subscription pattern
// "<p>.*" and match nothing but channels under it: non-empty, without the
// glob characters * ? [ ] \ or control characters.
func validPrefix(p string) bool {
	return p != "" && !strings.ContainsFunc(p, func(r rune) bool {
		return strings.ContainsRune(`*?[]\`, r) || r < 0x20 || r == 0x7f
	})
}
