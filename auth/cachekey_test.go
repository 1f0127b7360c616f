package auth

import (
	"strings"
	"testing"
)

// TestCacheKeys checks both key functions (AES-GCM, and HMAC-SHA-256 for
// FIPS 140-only mode) for what the cache relies on: a token always gets the
// same key from one keyer, distinct tokens get distinct keys (tokens that
// differ only by trailing zero bytes, or across the scratch buffer's pooling
// limit, included), and two keyers disagree, so keys mean nothing outside
// their Unified.
func TestCacheKeys(t *testing.T) {
	t.Parallel()
	tokens := []string{
		"a", "a\x00", "a\x00\x00", "\x00", "b",
		strings.Repeat("t", 15), strings.Repeat("t", 16), strings.Repeat("t", 17),
		strings.Repeat("t", 1024), strings.Repeat("t", 1023) + "u",
		strings.Repeat("x", maxPooledKeyBuf+1), strings.Repeat("x", maxPooledKeyBuf+2),
	}
	for _, tt := range []struct {
		name string
		new  func() *keyer
	}{{"aes-gcm", newKeyer}, {"hmac-sha256", newHMACKeyer}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, other := tt.new(), tt.new()
			if tt.name == "aes-gcm" && k.gcm == nil {
				t.Fatal("newKeyer fell back to HMAC outside FIPS 140-only mode")
			}
			seen := map[cacheKey]string{}
			for _, tok := range tokens {
				key := k.key(tok)
				if prev, dup := seen[key]; dup {
					t.Errorf("tokens of %d and %d bytes share a key", len(prev), len(tok))
				}
				seen[key] = tok
				if again := k.key(tok); again != key {
					t.Errorf("a %d-byte token got two keys", len(tok))
				}
				if other.key(tok) == key {
					t.Errorf("two keyers gave a %d-byte token the same key", len(tok))
				}
			}
		})
	}
}
