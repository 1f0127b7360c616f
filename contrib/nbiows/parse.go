package nbiows

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

// Close codes of RFC 6455 section 7.4.1 that only a transport sends.
const (
	codeProtocolError = 1002
	codeInvalidData   = 1007
)

// drainLimit bounds what the parser discards, after it sent the peer a
// close frame for a protocol error, while the close waits for the peer's
// close frame: at most drainLimit bytes, the rest of a message over the
// read limit included. A socket closed with unread input is reset, and
// the reset would cost the peer the close frame sent before it; drainTime
// bounds how long CloseWithin waits for it.
const (
	drainLimit = 16 << 20
	drainTime  = time.Second
)

// parser reassembles the messages of a client's frames as the engine hands
// over bytes, in pieces of any size. It is used under Conn.pmu.
type parser struct {
	limit int64 // the read limit

	hdr [14]byte // the frame header being collected
	hn  int      // bytes of it collected

	// The frame whose payload is arriving.
	inFrame bool
	fin     bool
	op      byte
	mask    [4]byte
	length  int64
	got     int64
	ctrl    []byte // a control frame's payload: 125 bytes, made for the first that has one
	discard bool   // the payload is skipped, not kept

	msg   []byte // the data message being reassembled
	msgOp byte
	open  bool // a fragmented message is under way

	failedAt time.Time // when a protocol error was met; zero: none
	budget   int64     // after one, what may still be discarded
	stopped  bool      // nothing more is parsed
}

// maxControlPayload is the longest payload of a control frame (RFC 6455
// section 5.5).
const maxControlPayload = 125

// received parses data, which the caller reuses after the call, and queues
// what it completes.
func (c *Conn) received(data []byte) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	c.parseLocked(data)
}

// parseLocked is received with pmu held.
func (c *Conn) parseLocked(data []byte) {
	c.heard.Store(true)
	p := &c.in
	for len(data) > 0 && !p.stopped {
		if !p.inFrame {
			data = p.collectHeader(data)
			if p.hn < headerLen(p.hdr[:p.hn]) {
				return
			}
			c.beginFrame()
			continue
		}
		n := int(min(int64(len(data)), p.length-p.got))
		chunk := data[:n]
		data = data[n:]
		switch {
		case p.discard:
			if p.budget -= int64(n); p.budget < 0 {
				p.stop(c)
			}
		case isControl(p.op):
			if p.ctrl == nil && len(chunk) > 0 {
				p.ctrl = make([]byte, maxControlPayload)
			}
			copy(p.ctrl[p.got:], chunk)
		default:
			start := len(p.msg)
			p.msg = append(p.msg, chunk...)
			unmask(p.msg[start:], p.mask, p.got)
		}
		p.got += int64(n)
		if p.got == p.length && !p.stopped {
			c.endFrame()
		}
	}
}

// collectHeader moves bytes of data into the header until it is whole and
// returns the rest.
func (p *parser) collectHeader(data []byte) []byte {
	for len(data) > 0 {
		need := headerLen(p.hdr[:p.hn])
		if p.hn >= need {
			break
		}
		n := copy(p.hdr[p.hn:need], data)
		p.hn += n
		data = data[n:]
	}
	return data
}

// headerLen is the length of the header whose first bytes are h: 2 until
// they are known, then 2, the extended length and the mask.
func headerLen(h []byte) int {
	if len(h) < 2 {
		return 2
	}
	n := 2
	switch h[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4
	}
	return n
}

func isControl(op byte) bool { return op&0x8 != 0 }

// beginFrame decodes the whole header and checks what RFC 6455 requires of
// a client's frame and the read limit.
func (c *Conn) beginFrame() {
	p := &c.in
	h := p.hdr[:p.hn]
	p.hn = 0
	p.inFrame, p.got, p.discard = true, 0, p.stopped || !p.failedAt.IsZero()
	p.fin, p.op = h[0]&0x80 != 0, h[0]&0x0F
	masked := h[1]&0x80 != 0
	rest := h[2:]
	switch l := h[1] & 0x7F; l {
	case 126:
		p.length, rest = int64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		v := binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if v>>63 != 0 {
			// The payload's length is unknown: the stream cannot be followed.
			c.fail(codeProtocolError, "a 64-bit payload length with its most significant bit set")
			p.stop(c)
			return
		}
		p.length = int64(v)
	default:
		p.length = int64(l)
	}
	if masked {
		copy(p.mask[:], rest)
	}
	if p.discard {
		if p.op == opClose {
			p.stop(c) // the peer answered the close frame sent for the error
		}
		return
	}
	switch {
	case !masked:
		c.fail(codeProtocolError, "an unmasked frame from a client")
	case h[0]&0x70 != 0:
		c.fail(codeProtocolError, "reserved bits set")
	case (p.op > opBinary && p.op < opClose) || p.op > opPong:
		c.fail(codeProtocolError, "a reserved opcode")
	case isControl(p.op) && (!p.fin || p.length > 125):
		c.fail(codeProtocolError, "a fragmented or oversized control frame")
	case (p.op == opText || p.op == opBinary) && p.open:
		c.fail(codeProtocolError, "a new message inside a fragmented one")
	case p.op == opContinuation && !p.open:
		c.fail(codeProtocolError, "a continuation outside a message")
	case !isControl(p.op) && int64(len(p.msg))+p.length > p.limit:
		c.fail(wsmanager.CodeTooBig, "a message over the read limit")
	}
	if !p.discard && (p.op == opText || p.op == opBinary) {
		p.msgOp, p.open = p.op, true
	}
	if p.length == 0 && !p.stopped {
		c.endFrame()
	}
}

// endFrame acts on the frame whose payload has all arrived.
func (c *Conn) endFrame() {
	p := &c.in
	p.inFrame = false
	if p.discard {
		return
	}
	switch p.op {
	case opPing:
		payload := append([]byte(nil), p.ctrl[:p.length]...)
		unmask(payload, p.mask, 0)
		c.inbox.ping(payload)
		return
	case opPong:
		return
	case opClose:
		c.peerClose()
		return
	}
	if !p.fin {
		return
	}
	msg, op := p.msg, p.msgOp
	p.msg, p.open = nil, false
	if op == opText && !utf8.Valid(msg) {
		c.fail(codeInvalidData, "a text message that is not UTF-8")
		return
	}
	if msg == nil {
		msg = []byte{}
	}
	if !c.inbox.message(msg) {
		c.failWith(wsmanager.CodePolicyViolation, fmt.Errorf("%w: more than %d bytes held", ErrBacklog, c.u.backlog))
	}
}

// peerClose handles the peer's close frame: reading ends with a
// *wsmanager.CloseError, after the worker answers it.
func (c *Conn) peerClose() {
	p := &c.in
	payload := p.ctrl[:p.length]
	unmask(payload, p.mask, 0)
	code, reason := wsmanager.CodeNoStatus, ""
	switch {
	case len(payload) == 1:
		c.fail(codeProtocolError, "a 1-byte close frame")
		return
	case len(payload) >= 2:
		code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
		if !wsadapt.ValidCode(code) || !utf8.ValidString(reason) {
			c.fail(codeProtocolError, "a close frame with an invalid code or reason")
			return
		}
	}
	// Echo the peer's code, as RFC 6455 section 5.5.1 suggests.
	answer := []byte{}
	if code != wsmanager.CodeNoStatus {
		answer = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	c.inbox.end(answer, wsadapt.PeerClosed(code, reason))
	p.stop(c)
}

// fail ends reading with a protocol error, after the worker sends the peer
// a close frame with code.
func (c *Conn) fail(code int, what string) {
	c.failWith(code, fmt.Errorf("%w: %s", ErrProtocol, what))
}

// failWith ends reading with err, after the worker sends the peer a close
// frame with code: a wsmanager.SentCloseError, so that the connection ends
// with the code the peer was sent. What the peer still sends is then
// discarded, up to drainLimit bytes, until its close frame.
func (c *Conn) failWith(code int, err error) {
	p := &c.in
	c.inbox.end(binary.BigEndian.AppendUint16(nil, uint16(code)), &wsmanager.SentCloseError{Code: code, Err: err})
	p.msg, p.open = nil, false
	p.discard = true
	if p.failedAt.IsZero() {
		p.failedAt = time.Now()
		p.budget = drainLimit
	}
}

// stop parses nothing more: waiting for the peer is then pointless.
func (p *parser) stop(c *Conn) {
	p.stopped = true
	p.msg = nil
	c.signalPeerDone()
}

// failedSince returns when the parser met a protocol error, or zero.
func (c *Conn) failedSince() time.Time {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.in.failedAt
}

// unmask applies mask to b, the payload's bytes from offset pos, eight
// bytes at a time once aligned with the mask.
func unmask(b []byte, mask [4]byte, pos int64) {
	for len(b) > 0 && pos&3 != 0 {
		b[0] ^= mask[pos&3]
		b, pos = b[1:], pos+1
	}
	m := uint64(binary.LittleEndian.Uint32(mask[:]))
	m |= m << 32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^m)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= mask[i&3]
	}
}
