package middleware

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Cookie layout: base64url(nonce ‖ AES-256-GCM(plaintext)), sealed with the
// cookie name as additional data so that a value cannot be moved to another
// cookie. The plaintext is a version byte, the issue time in Unix seconds
// (8 bytes, big-endian), a uvarint count of pairs, and each pair as uvarint
// length-prefixed key and value, keys sorted.
const (
	cookieVersion  = 1
	maxCookieBytes = 4096 // what browsers keep of name=value
	nonceSize      = 12
	clockSkew      = time.Minute // an issue time this far in the future is still accepted
)

type codec struct {
	name   string
	aeads  []cipher.AEAD // first seals, all open
	maxAge time.Duration
}

func newCodec(name string, keys [][]byte, maxAge time.Duration) (*codec, error) {
	c := &codec{name: name, maxAge: maxAge}
	for _, k := range keys {
		// Derive the AES key so that keys of any length >= 32 bytes give
		// independent, full-strength AES-256 keys.
		dk, err := hkdf.Key(sha256.New, k, nil, "ssot middleware session cookie v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(dk)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

func (c *codec) seal(values map[string]string, issued time.Time) (string, error) {
	keys := make([]string, 0, len(values))
	size := 1 + 8 + binary.MaxVarintLen64
	for k, v := range values {
		keys = append(keys, k)
		size += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	slices.Sort(keys)
	plain := make([]byte, 0, size)
	plain = append(plain, cookieVersion)
	plain = binary.BigEndian.AppendUint64(plain, uint64(issued.Unix()))
	plain = binary.AppendUvarint(plain, uint64(len(keys)))
	for _, k := range keys {
		plain = binary.AppendUvarint(plain, uint64(len(k)))
		plain = append(plain, k...)
		plain = binary.AppendUvarint(plain, uint64(len(values[k])))
		plain = append(plain, values[k]...)
	}
	aead := c.aeads[0]
	if n := len(c.name) + 1 + base64.RawURLEncoding.EncodedLen(nonceSize+len(plain)+aead.Overhead()); n > maxCookieBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, n, maxCookieBytes)
	}
	sealed := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
	_, _ = rand.Read(sealed) // never fails; see crypto/rand.Read
	sealed = aead.Seal(sealed, sealed, plain, []byte(c.name))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open returns the values of a cookie value that was sealed by one of the
// keys for this cookie name, is well formed, and has not expired at now.
func (c *codec) open(value string, now time.Time) (map[string]string, bool) {
	if len(value) > maxCookieBytes {
		return nil, false
	}
	// Strict: each sealed cookie has exactly one accepted spelling.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) < nonceSize {
		return nil, false
	}
	for _, aead := range c.aeads {
		plain, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], []byte(c.name))
		if err != nil {
			continue
		}
		values, issued, err := decodePlain(plain)
		if err != nil {
			return nil, false
		}
		if now.Sub(issued) >= c.maxAge || issued.Sub(now) > clockSkew {
			return nil, false
		}
		return values, true
	}
	return nil, false
}

// errMalformed is internal: a malformed cookie yields a fresh session, never an error.
const errMalformed = sentinel("middleware: malformed session")

func decodePlain(p []byte) (map[string]string, time.Time, error) {
	if len(p) < 1+8 || p[0] != cookieVersion {
		return nil, time.Time{}, errMalformed
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(p[1:9])), 0)
	p = p[9:]
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)) {
		return nil, time.Time{}, errMalformed
	}
	p = p[w:]
	values := make(map[string]string, n)
	next := func() (string, bool) {
		l, w := binary.Uvarint(p)
		if w <= 0 || l > uint64(len(p)-w) {
			return "", false
		}
		s := string(p[w : w+int(l)])
		p = p[w+int(l):]
		return s, true
	}
	for range n {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			return nil, time.Time{}, errMalformed
		}
		if _, dup := values[k]; dup {
			return nil, time.Time{}, errMalformed
		}
		values[k] = v
	}
	if len(p) != 0 {
		return nil, time.Time{}, errMalformed
	}
	return values, issued, nil
}
