package gobwasws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

// Read returns the next message, text or binary, reassembled from its
// fragments; pings are answered and pongs noted on the way. When the peer
// sent a close frame, Read answers it and returns a *wsmanager.CloseError
// with the peer's code (1005 if it carried none). When the connection ended
// without one it returns an abnormal error, never io.EOF: wrapping ErrNoPong
// for a peer that stopped answering pings, ErrProtocol for a peer that
// broke the protocol or sent a message over the read limit (the connection
// has then been sent 1002, 1007 or 1009, which the error, a
// *wsmanager.SentCloseError, carries), and the socket's error otherwise.
// After such an error (but for a 64-bit frame length with its top bit
// set, after which the stream cannot be followed), CloseWithin reads and
// discards what the peer still sends, up to 16 MiB of payload and for at
// most a second after the close frame, so that a peer that finishes
// sending a message over the limit of up to that size in that time, and
// then reads, sees the close frame rather than a reset.
//
// A frame's payload is allocated as its bytes arrive, at most 32 KiB
// first and then at most doubling, so that a header alone does not make Read
// allocate the length it declares.
//
// If ctx ends while Read waits, Read returns ctx's error and the connection
// cannot be read again: ctx is watched with context.AfterFunc for the
// length of the call, which moves the socket's read deadline into the
// past. A pong or close frame Read writes is due within
// five seconds, through the write lock and the socket's write deadline as
// every write.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	select {
	case c.reading <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.reading }()
	switch {
	case c.shut.Load():
		return nil, ErrClosed
	case c.readBroken:
		return nil, errReadBroken
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The socket's read deadline is what ends a blocked read; ctx moves it
	// into the past if it ends first.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetReadDeadline(wsadapt.LongAgo()) })
	c.reads.Add(1)
	msg, err := c.readMessage()
	c.reads.Add(1)
	if !stop() {
		// ctx ended, and the read may have stopped inside a frame.
		c.readBroken = true
		return nil, ctx.Err()
	}
	return msg, err
}

// errReadBroken is Read's error after a Read whose context ended, or one
// that met a frame length it could not parse: the stream cannot be parsed.
const errReadBroken = sentinel("gobwasws: an earlier Read left the stream unreadable")

// frame is one frame as read, payload unmasked.
type frame struct {
	h       ws.Header
	payload []byte
}

// readMessage reads frames until a whole data message or the peer's close.
func (c *Conn) readMessage() ([]byte, error) {
	var (
		msg  []byte
		op   ws.OpCode
		open bool
	)
	for {
		f, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		switch f.h.OpCode {
		case ws.OpPing:
			_ = c.w.WriteControl(byte(ws.OpPong), f.payload, time.Now().Add(wsadapt.CloseTimeout))
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			return nil, c.peerClose(f.payload)
		case ws.OpText, ws.OpBinary:
			if open {
				return nil, c.fail(ws.StatusProtocolError, "a new message inside a fragmented one")
			}
			op, open = f.h.OpCode, true
		case ws.OpContinuation:
			if !open {
				return nil, c.fail(ws.StatusProtocolError, "a continuation outside a message")
			}
		}
		if int64(len(msg))+int64(len(f.payload)) > c.readLimit {
			return nil, c.fail(ws.StatusMessageTooBig, "a message over the read limit")
		}
		if msg == nil && f.h.Fin {
			msg = f.payload // a single-frame message: no copy
		} else {
			msg = append(msg, f.payload...)
		}
		if !f.h.Fin {
			continue
		}
		if op == ws.OpText && !utf8.Valid(msg) {
			return nil, c.fail(ws.StatusInvalidFramePayloadData, "a text message that is not UTF-8")
		}
		if msg == nil {
			msg = []byte{}
		}
		return msg, nil
	}
}

// firstAlloc bounds the first allocation for a frame's payload, which then
// grows, at most doubling, as its bytes arrive, so that a header alone
// does not make the connection allocate the length it declares.
const firstAlloc = 32 << 10

// readFrame reads one frame from the peer and checks what RFC 6455
// requires of a client's frame and the read limit.
func (c *Conn) readFrame() (frame, error) {
	h, err := c.readHeader()
	if err != nil {
		return frame{}, err
	}
	if h.Length > c.readLimit {
		return frame{}, c.fail(ws.StatusMessageTooBig, "a message over the read limit")
	}
	payload, err := c.readPayload()
	if err != nil {
		return frame{}, c.readErr(err)
	}
	ws.Cipher(payload, h.Mask, 0)
	return frame{h: h, payload: payload}, nil
}

// readHeader discards what is left unread of the previous frame's payload,
// reads the next frame's header and checks what RFC 6455 requires of a
// client's frame. It leaves c.unread at the frame's payload length.
func (c *Conn) readHeader() (ws.Header, error) {
	if c.unread > 0 {
		n, err := io.CopyN(io.Discard, &c.in, c.unread)
		c.unread -= n
		if err != nil {
			return ws.Header{}, c.readErr(err)
		}
	}
	h, err := ws.ReadHeaderBuffer(&c.in, c.rhdr[:])
	switch {
	case errors.Is(err, ws.ErrHeaderLengthMSB):
		c.readBroken = true // the payload's length is unknown
		return h, c.fail(ws.StatusProtocolError, "a 64-bit payload length with its most significant bit set")
	case err != nil:
		return h, c.readErr(err)
	}
	c.heard.Store(true)
	c.unread = h.Length
	switch {
	case !h.Masked:
		return h, c.fail(ws.StatusProtocolError, "an unmasked frame from a client")
	case h.Rsv != 0:
		return h, c.fail(ws.StatusProtocolError, "reserved bits set")
	case h.OpCode.IsReserved():
		return h, c.fail(ws.StatusProtocolError, "a reserved opcode")
	case h.OpCode.IsControl() && (!h.Fin || h.Length > ws.MaxControlFramePayloadSize):
		return h, c.fail(ws.StatusProtocolError, "a fragmented or oversized control frame")
	}
	return h, nil
}

// readPayload reads the c.unread bytes of the current frame's payload,
// allocating as they arrive: at most firstAlloc bytes first, then at most
// twice what has arrived.
func (c *Conn) readPayload() ([]byte, error) {
	p := make([]byte, 0, min(c.unread, firstAlloc))
	for c.unread > 0 {
		if len(p) == cap(p) {
			grown := make([]byte, len(p), len(p)+int(min(c.unread, int64(len(p)))))
			p = grown[:copy(grown, p)]
		}
		end := len(p) + int(min(int64(cap(p)-len(p)), c.unread))
		n, err := c.in.Read(p[len(p):end])
		p = p[:len(p)+n]
		c.unread -= int64(n)
		switch {
		case c.unread == 0:
			return p, nil
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
	}
	return p, nil
}

// peerClose handles the peer's close frame: it answers it, unless a close
// frame already went out, lets a waiting Close know, and returns the
// *wsmanager.CloseError Read reports.
func (c *Conn) peerClose(payload []byte) error {
	code, reason := wsmanager.CodeNoStatus, ""
	switch {
	case len(payload) == 1:
		return c.fail(ws.StatusProtocolError, "a 1-byte close frame")
	case len(payload) >= 2:
		sc, r := ws.ParseCloseFrameData(payload)
		if !wsadapt.ValidCode(int(sc)) || !utf8.ValidString(r) {
			return c.fail(ws.StatusProtocolError, "a close frame with an invalid code or reason")
		}
		code, reason = int(sc), r
	}
	// Echo the peer's code, as RFC 6455 section 5.5.1 suggests, unless a
	// close frame already went out.
	var answer []byte
	if code != wsmanager.CodeNoStatus {
		answer = ws.NewCloseFrameBody(ws.StatusCode(code), "")
	}
	_ = c.w.WriteControl(wsadapt.OpClose, answer, time.Now().Add(wsadapt.CloseTimeout))
	c.closeOnceSignal()
	return wsadapt.PeerClosed(code, reason)
}

// closeOnceSignal closes peerClosed once.
func (c *Conn) closeOnceSignal() {
	select {
	case <-c.peerClosed:
	default:
		close(c.peerClosed)
	}
}

// fail sends the peer a close frame with code, unless one already went out,
// and returns the protocol error Read reports: a wsmanager.SentCloseError
// with that code, so that the connection ends with the code the peer was
// sent, wrapping ErrProtocol.
func (c *Conn) fail(code ws.StatusCode, what string) error {
	if c.failedAt.IsZero() {
		c.failedAt = time.Now()
	}
	_ = c.w.WriteControl(wsadapt.OpClose, ws.NewCloseFrameBody(code, ""), time.Now().Add(wsadapt.CloseTimeout))
	return &wsmanager.SentCloseError{Code: int(code), Err: fmt.Errorf("%w: %s", ErrProtocol, what)}
}

// readErr maps a socket error while reading onto wsmanager's rule.
func (c *Conn) readErr(err error) error {
	if c.dead.Load() {
		return ErrNoPong
	}
	return wsadapt.Abnormal("gobwasws", err)
}
