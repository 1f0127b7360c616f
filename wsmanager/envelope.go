package wsmanager

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// The envelope is what a Factory publishes, or appends to a Log: a version
// byte, the node's random ID, with a BrokerKey an HMAC-SHA256 tag, then the
// message. The node ID lets a node drop its own messages when the broker
// echoes them, which is what makes delivery exactly-once per connection
// while the broker is healthy. The tag covers the version, the node ID, the
// user ID the envelope is delivered for (and, in a Log, the thread ID) and
// the message, so a signed envelope cannot be replayed to another user or
// thread; a Log's envelopes have versions of their own, one for a thread
// and one for all of a user's threads, so that none can be passed for
// another.
const (
	envelopePlain    = 1 // Publish's: version, node ID, message
	logEnvelopePlain = 3 // Append's for one thread, the same
	logEnvelopeUser  = 5 // Append's for all of a user's threads, the same
	envelopeControl  = 7 // DisconnectUser's: version, node ID, then a close code (2 bytes) and reason
	signed           = 1 // added to a plain version: version, node ID, tag, message
	nodeIDLen        = 16
	tagLen           = sha256.Size
	plainHeader      = 1 + nodeIDLen
	signedHeader     = plainHeader + tagLen
)

// seal builds the envelope of msg for userID.
func (f *Factory) seal(userID string, msg []byte) []byte {
	return f.sealAs(envelopePlain, msg, userID)
}

// sealAs builds an envelope of msg of version plain, or plain+signed with a
// BrokerKey, its tag bound to the strings of bound.
func (f *Factory) sealAs(plain byte, msg []byte, bound ...string) []byte {
	if f.opts.BrokerKey == nil {
		b := make([]byte, plainHeader+len(msg))
		b[0] = plain
		copy(b[1:], f.node[:])
		copy(b[plainHeader:], msg)
		return b
	}
	b := make([]byte, signedHeader+len(msg))
	b[0] = plain + signed
	copy(b[1:], f.node[:])
	copy(b[signedHeader:], msg)
	envelopeTag(f.opts.BrokerKey, b[:plainHeader], msg, b[plainHeader:plainHeader], bound...)
	return b
}

// envelopeTag appends the HMAC-SHA256 under key of the envelope's header,
// the strings it is bound to and the message to dst. Each string's length
// is included, so no two bindings are ever fed to the MAC as the same
// bytes.
func envelopeTag(key, header, msg, dst []byte, bound ...string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(header)
	var n [4]byte
	for _, s := range bound {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		mac.Write(n[:])
		mac.Write([]byte(s))
	}
	mac.Write(msg)
	return mac.Sum(dst)
}

// open checks an envelope received for userID and returns the node that
// published it and its message. ok is false for anything that is not an
// envelope of this package (brokers are shared infrastructure); rejected is
// true for an envelope whose signature Options.BrokerKey requires and that
// has none, or a wrong one.
func (f *Factory) open(userID string, b []byte) (node [nodeIDLen]byte, msg []byte, ok, rejected bool) {
	return f.openAs(envelopePlain, b, userID)
}

// openAs is open for envelopes of version plain, or plain+signed, bound to
// the strings of bound.
func (f *Factory) openAs(plain byte, b []byte, bound ...string) (node [nodeIDLen]byte, msg []byte, ok, rejected bool) {
	if len(b) < plainHeader || b[0] != plain && b[0] != plain+signed {
		return node, nil, false, false
	}
	copy(node[:], b[1:plainHeader])
	key := f.opts.BrokerKey
	switch {
	case key == nil && b[0] == plain:
		return node, b[plainHeader:], true, false
	case key == nil:
		// A signed envelope that this node cannot check: the cluster is
		// configured inconsistently, and delivering it unchecked would
		// defeat the nodes that sign.
		return node, nil, false, true
	case b[0] != plain+signed || len(b) < signedHeader:
		return node, nil, false, true
	}
	msg = b[signedHeader:]
	var want [tagLen]byte
	envelopeTag(key, b[:plainHeader], msg, want[:0], bound...)
	if !hmac.Equal(want[:], b[plainHeader:signedHeader]) {
		return node, nil, false, true
	}
	return node, msg, true, false
}
