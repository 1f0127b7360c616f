package env

import (
	"net/url"
	"strings"
)

// Redacted is what Redact returns in place of a secret value. It is the same
// whatever the value, so not even the value's length shows.
const Redacted = "[REDACTED]"

// secretWords are the fragments that make a key look secret. Matching is on
// the lower-cased key, anywhere in it, so API_KEY, apiKey, DB_PASSWORD_FILE
// and X_PRIVATE_PEM all match. A harmless key that matches too (MONKEY_COUNT)
// is only hidden; a secret that slipped through would be printed.
func secretWords() [21]string {
	return [...]string{
		"pass", "pwd", "secret", "token", "key", "cred", "private",
		"auth", "cert", "jwt", "salt", "signature", "session", "cookie",
		"bearer", "hmac", "otp", "seed", "dsn", "license", "mnemonic",
	}
}

// IsSecretKey reports whether Redact hides the value of key: whether its
// lower-cased form contains any of pass, pwd, secret, token, key, cred,
// private, auth, cert, jwt, salt, signature, session, cookie, bearer, hmac,
// otp, seed, dsn, license or mnemonic.
func IsSecretKey(key string) bool {
	lower := strings.ToLower(key)
	for _, w := range secretWords() {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Redact returns a value fit for a log line or a debug page. It returns
// Redacted when key looks secret (see IsSecretKey). Otherwise a URL with
// credentials in it has them masked: DATABASE_URL's
// postgres://app:hunter2@db/app becomes postgres://app:xxxxx@db/app, and
// https://ghp_token@example.com becomes https://xxxxx@example.com. Any other
// value is returned as it is.
//
// Redact judges by key name alone. A field tagged secret whose key does not
// look secret is never printed by this package (Check reports names only),
// and code that logs values itself should treat it the same way.
func Redact(key, value string) string {
	if IsSecretKey(key) {
		return Redacted
	}
	if !strings.Contains(value, "@") || !strings.Contains(value, "://") {
		return value
	}
	u, err := url.Parse(value)
	if err != nil {
		// Unparseable but URL-shaped: it may still hold credentials.
		return Redacted
	}
	if u.User == nil {
		return value
	}
	if _, has := u.User.Password(); has {
		return u.Redacted()
	}
	u.User = url.User("xxxxx")
	return u.String()
}
