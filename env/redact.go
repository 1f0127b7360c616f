package env

import (
	"strings"

	"github.com/ssotkit/ssot/internal/safefmt"
)

// Redacted is what Redact returns in place of a secret value. It is the same
// whatever the value, so not even the value's length shows, and the same
// text every description in the library shows for a secret.
const Redacted = safefmt.Redacted

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
// Redacted when key looks secret (see IsSecretKey). Otherwise every URL in
// the value has its credentials masked, the URLs of a list (separated by
// commas, semicolons or spaces, as in NATS server lists) each on its own.
// Credentials are everything between a URL's "://" and the last "@" before
// the next URL of the list, so a password holding "@" or "/" is masked
// whole: DATABASE_URL's postgres://app:p@ss/w0rd@db/app becomes
// postgres://app:xxxxx@db/app, nats://a:pw1@h1,nats://b:pw2@h2 becomes
// nats://a:xxxxx@h1,nats://b:xxxxx@h2, and https://ghp_token@example.com,
// which has a user name alone, becomes https://xxxxx@example.com. The user
// name before a password is kept. An "@" in a URL's path counts too, which
// masks more than the credentials, never less. Any other value is returned
// as it is.
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
	starts := urlStarts(value)
	var b strings.Builder
	done := 0
	for i, s := range starts {
		end := len(value)
		if i+1 < len(starts) {
			end = schemeStart(value, starts[i+1])
		}
		from := s + len("://")
		at := strings.LastIndexByte(value[from:end], '@')
		if at < 0 {
			continue
		}
		b.WriteString(value[done:from])
		if user, _, hasPassword := strings.Cut(value[from:from+at], ":"); hasPassword {
			b.WriteString(user)
			b.WriteString(":")
		}
		b.WriteString("xxxxx")
		done = from + at
	}
	b.WriteString(value[done:])
	return b.String()
}

// urlStarts returns the index of the "://" of each URL in a value: the first
// "://", and every later one whose scheme follows a list separator. A "://"
// elsewhere (inside a password) belongs to the URL before it.
func urlStarts(value string) []int {
	var starts []int
	for i := 0; ; {
		j := strings.Index(value[i:], "://")
		if j < 0 {
			return starts
		}
		j += i
		if s := schemeStart(value, j); len(starts) == 0 || s > 0 && s > starts[len(starts)-1]+len("://") && isListSeparator(value[s-1]) {
			starts = append(starts, j)
		}
		i = j + len("://")
	}
}

// schemeStart returns where the scheme ending at the "://" at sep begins.
// Colons count as scheme characters, so jdbc:postgresql:// is one scheme.
func schemeStart(value string, sep int) int {
	s := sep
	for s > 0 && isSchemeChar(value[s-1]) {
		s--
	}
	return s
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.' || c == ':'
}

func isListSeparator(c byte) bool {
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
