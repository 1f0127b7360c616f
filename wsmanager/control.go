package wsmanager

import (
	"context"
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// maxControlReason bounds a DisconnectUser reason: a close frame's reason
// is at most 123 bytes.
const maxControlReason = 123

// DisconnectUser closes every connection of userID with code and reason,
// on this node and, through the Broker or Log, on every other node of the
// cluster: a logout everywhere, a ban. Each connection closes as
// Connection.Close does, after what was queued to it. It returns once this
// node's connections are closing and the request is handed to the Broker
// or Log; other nodes act on it when it reaches them, and ignore it if it
// does not carry a valid signature under Options.BrokerKey.
//
// The request concerns the connections of its time: one that registers
// afterwards is not closed by it (a node that receives the request late
// may still close a connection that registered just before it arrived).
// Refuse the user's new connections in authentication to keep them out.
// Through a Log, the request takes a position in the user's stream that no
// client is sent and no replay delivers.
//
// It returns an error wrapping ErrInvalidUser for an invalid userID,
// ErrInvalidOptions for a code that a server may not send (see
// validCloseCode) or a reason over 123 bytes or not UTF-8, ErrClosed after
// Close, ctx.Err() if ctx has ended, and an error wrapping ErrBroker if the
// request could not be handed on (this node's connections are closing all
// the same).
func (f *Factory) DisconnectUser(ctx context.Context, userID string, code int, reason string) error {
	if f.isClosed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := (UserContext{UserID: userID}).Validate(); err != nil {
		return err
	}
	if !validCloseCode(code) || len(reason) > maxControlReason || !utf8.ValidString(reason) {
		return fmt.Errorf("%w: DisconnectUser: close code %d or its reason is not one a server may send", ErrInvalidOptions, code)
	}
	f.closeUser(userID, code, reason)
	return f.delivery.disconnect(ctx, userID, code, reason)
}

// validCloseCode reports whether a server may send code in a close frame:
// 1000–1003, 1007–1014, or 3000–4999 (RFC 6455, section 7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// closeUser closes this node's connections of userID with code and reason.
func (f *Factory) closeUser(userID string, code int, reason string) {
	var conns []*Connection
	f.mu.RLock()
	for m := range f.users[userID].all {
		if p := m.conns.Load(); p != nil {
			conns = append(conns, *p...)
		}
	}
	f.mu.RUnlock()
	for _, c := range conns {
		c.requestClose(causeClosed, code, reason, nil)
	}
}

// sealControl builds the envelope of a DisconnectUser request for userID.
func (f *Factory) sealControl(userID string, code int, reason string) []byte {
	payload := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(payload, uint16(code))
	copy(payload[2:], reason)
	return f.sealAs(envelopeControl, payload, userID)
}

// isControl reports whether env is a DisconnectUser envelope, which a
// delivery hands to receiveControl instead of delivering.
func isControl(env []byte) bool {
	return len(env) > 0 && (env[0] == envelopeControl || env[0] == envelopeControl+signed)
}

// receiveControl acts on a DisconnectUser request from another node.
// This node's own requests, echoed back, were acted on when made.
func (f *Factory) receiveControl(userID string, env []byte) {
	node, payload, ok, rejected := f.openAs(envelopeControl, env, userID)
	switch {
	case rejected:
		f.stats.brokerRejected.Add(1)
		return
	case !ok || len(payload) < 2:
		f.stats.brokerMalformed.Add(1)
		return
	case node == f.node:
		f.stats.brokerEchoes.Add(1)
		return
	}
	code, reason := int(binary.BigEndian.Uint16(payload)), string(payload[2:])
	if !validCloseCode(code) || len(reason) > maxControlReason || !utf8.ValidString(reason) {
		f.stats.brokerMalformed.Add(1)
		return
	}
	f.stats.brokerReceived.Add(1)
	f.closeUser(userID, code, reason)
}
