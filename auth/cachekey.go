package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"sync"
)

// cacheKey is what the cache knows of a token: a keyed 128-bit
// pseudorandom function of it. The token itself is never stored.
type cacheKey [16]byte

// keyer turns tokens into cache keys under keys drawn at random when it is
// made; every Unified has its own. The function, and why an attacker
// without the keys cannot make two tokens share a cache key, is in the
// package documentation ("Cache keys"). It is safe for concurrent use.
type keyer struct {
	gcm   cipher.AEAD  // GHASH_H, masked; nil in FIPS 140-only mode
	outer cipher.Block // the AES encryption of the GCM tag
	pool  sync.Pool    // *keyScratch
}

// keyScratch is one goroutine's buffers: the token is copied into buf so
// that it is handed to the cipher as a slice the pool owns and never
// escapes to the heap itself.
type keyScratch struct {
	buf []byte
	// nonce is the GCM computation's fixed nonce, all zeros. Reusing a
	// nonce is what GCM encryption must never do; here nothing is
	// encrypted, the tag is the output, and the outer AES hides it.
	nonce [12]byte
	tag   [16]byte
	out   [sha256.Size]byte
	mac   hash.Hash // HMAC-SHA-256, in FIPS 140-only mode
}

func newKeyer() *keyer {
	k := &keyer{}
	var gk, ok [16]byte
	rand.Read(gk[:]) // never fails; see crypto/rand.Read
	rand.Read(ok[:])
	inner, err := aes.NewCipher(gk[:])
	if err == nil {
		k.outer, err = aes.NewCipher(ok[:])
	}
	if err == nil {
		k.gcm, err = cipher.NewGCM(inner)
	}
	if err != nil { // FIPS 140-only mode
		return newHMACKeyer()
	}
	k.pool.New = func() any { return &keyScratch{} }
	return k
}

// newHMACKeyer returns the keyer of FIPS 140-only mode.
func newHMACKeyer() *keyer {
	var key [32]byte
	rand.Read(key[:])
	k := &keyer{}
	k.pool.New = func() any { return &keyScratch{mac: hmac.New(sha256.New, key[:])} }
	return k
}

// key returns token's cache key.
func (k *keyer) key(token string) cacheKey {
	s := k.pool.Get().(*keyScratch)
	s.buf = append(s.buf[:0], token...)
	if k.gcm == nil {
		s.mac.Reset()
		s.mac.Write(s.buf)
		s.mac.Sum(s.out[:0])
	} else {
		k.outer.Encrypt(s.out[:], k.gcm.Seal(s.tag[:0], s.nonce[:], nil, s.buf))
	}
	key := cacheKey(s.out[:len(cacheKey{})])
	if cap(s.buf) <= maxPooledKeyBuf {
		k.pool.Put(s)
	}
	return key
}

// maxPooledKeyBuf keeps a scratch buffer grown by one unusually long token
// (Extractor.MaxLen may be raised) out of the pool.
const maxPooledKeyBuf = 16 << 10
