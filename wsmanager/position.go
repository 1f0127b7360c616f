package wsmanager

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is where a message stands in its user's stream: Seq counts the
// messages of the stream, and Epoch names the stream's history, which
// changes whenever that history is lost (a restart without a durable
// store, a stream that expired). Positions of one epoch increase with every
// message; a connection sees those meant for it, so it may see gaps.
//
// A client keeps the position of the last message it handled and presents
// it when it reconnects (see EndpointOptions.Resume): it then gets every
// message after it, or, if that position is no longer held, a reset. The
// zero Position means "none": a client that has seen nothing yet.
//
// Position is a plain value, safe to copy and share.
type Position struct {
	Epoch uint64
	Seq   uint64
}

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p == Position{} }

// String returns p as the client sees it: the epoch in hexadecimal, a dot
// and the sequence number in decimal, such as "9f86d081884c7d65.42".
func (p Position) String() string { return string(p.AppendText(nil)) }

// AppendText appends String's form of p to dst, without allocating when dst
// has room.
func (p Position) AppendText(dst []byte) []byte {
	dst = strconv.AppendUint(dst, p.Epoch, 16)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, p.Seq, 10)
}

// ParsePosition parses String's form. It returns an error wrapping
// ErrInvalidPosition for anything else; the empty string is the zero
// Position.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	e, q, ok := strings.Cut(s, ".")
	if !ok || len(s) > 40 {
		return Position{}, fmt.Errorf("%w: not epoch.seq", ErrInvalidPosition)
	}
	epoch, err1 := strconv.ParseUint(e, 16, 64)
	seq, err2 := strconv.ParseUint(q, 10, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("%w: not epoch.seq", ErrInvalidPosition)
	}
	return Position{Epoch: epoch, Seq: seq}, nil
}

// PrefixFrame is the default HistoryOptions.Frame: the position, a space,
// then the message, so a client splits each message at its first space. A
// message with no position (the zero Position: a Broadcast, a
// Connection.Send) has "-" in its place:
//
//	ws.onmessage = (e) => {
//	  const i = e.data.indexOf(" ");
//	  if (i < 0) { reload(); position = e.data; return; } // a reset (see ResetFrame)
//	  const p = e.data.slice(0, i);
//	  if (p !== "-") position = p;
//	  handle(e.data.slice(i + 1));
//	};
//	// on reconnect: new WebSocket(url + "?resume=" + encodeURIComponent(position))
func PrefixFrame(dst []byte, pos Position, msg []byte) []byte {
	if pos.IsZero() {
		dst = append(dst, '-')
	} else {
		dst = pos.AppendText(dst)
	}
	dst = append(dst, ' ')
	return append(dst, msg...)
}

// ResetFrame is the default HistoryOptions.ResetFrame: the stream's current
// position alone, with no space, which no PrefixFrame message can be. A
// client that gets it missed messages the server no longer holds (or comes
// from another epoch): it reloads its state and keeps head as its position.
func ResetFrame(dst []byte, head Position) []byte {
	return head.AppendText(dst)
}
