package nbiows

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// sink is a socket that takes every write.
type sink struct{ net.Conn }

func (sink) Write(p []byte) (int, error)      { return len(p), nil }
func (sink) SetWriteDeadline(time.Time) error { return nil }
func (sink) Close() error                     { return nil }

// parsed feeds data to a fresh connection in pieces of step bytes and
// returns what it queued, one line per event.
func parsed(t *testing.T, data []byte, step int) []string {
	t.Helper()
	u := &Upgrader{readLimit: 64, backlog: 1 << 20, op: opText, pool: newPool(1)}
	c := newConn(u, "")
	u.direct = sink{}
	for len(data) > 0 {
		n := min(step, len(data))
		c.received(data[:n])
		data = data[n:]
	}
	if err := u.pool.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range c.inbox.events {
		switch ev.kind {
		case evMessage:
			if len(ev.data) > 64 {
				t.Errorf("a %d-byte message passed the 64-byte read limit", len(ev.data))
			}
			out = append(out, fmt.Sprintf("message %q", ev.data))
		case evPing:
			out = append(out, fmt.Sprintf("ping %q", c.inbox.pong))
		case evEnd:
			var ce *wsmanager.CloseError
			if errors.As(ev.err, &ce) {
				out = append(out, fmt.Sprintf("end close %d %q", ce.Code, ce.Reason))
				continue
			}
			out = append(out, fmt.Sprintf("end %v", ev.err))
		}
	}
	return out
}

// frame returns a client's frame: masked with a fixed key.
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var h []byte
	switch n := len(payload); {
	case n <= 125:
		h = []byte{b0, 0x80 | byte(n)}
	case n <= 0xFFFF:
		h = binary.BigEndian.AppendUint16([]byte{b0, 0x80 | 126}, uint16(n))
	default:
		h = binary.BigEndian.AppendUint64([]byte{b0, 0x80 | 127}, uint64(n))
	}
	mask := [4]byte{0xA1, 0x0B, 0x3C, 0x7D}
	h = append(h, mask[:]...)
	p := bytes.Clone(payload)
	for i := range p {
		p[i] ^= mask[i&3]
	}
	return append(h, p...)
}

// FuzzParse checks the frame parser on arbitrary input: however the bytes
// are split as they arrive, it queues the same events, and no message
// passes the read limit.
func FuzzParse(f *testing.F) {
	f.Add(byte(1), frame(true, opText, []byte("hello")))
	f.Add(byte(3), append(frame(false, opText, []byte("frag")), append(frame(true, opPing, []byte("p")), frame(true, opContinuation, []byte("mented"))...)...))
	f.Add(byte(5), frame(true, opBinary, bytes.Repeat([]byte{0xFF}, 60)))
	f.Add(byte(2), frame(true, opText, bytes.Repeat([]byte("z"), 200)))
	f.Add(byte(7), frame(true, opText, []byte{0xC3, 0x28}))
	f.Add(byte(1), frame(true, opClose, []byte{0x03, 0xE8, 'b', 'y', 'e'}))
	f.Add(byte(4), []byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Add(byte(9), []byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, step byte, data []byte) {
		whole := parsed(t, data, len(data)+1)
		split := parsed(t, data, 1+int(step)%17)
		if fmt.Sprint(whole) != fmt.Sprint(split) {
			t.Fatalf("whole: %q\nsplit every %d bytes: %q", whole, 1+int(step)%17, split)
		}
	})
}

func TestParseEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{"one message", frame(true, opText, []byte("hi")), []string{`message "hi"`}},
		{"empty message", frame(true, opText, nil), []string{`message ""`}},
		{"fragmented around a ping",
			append(frame(false, opText, []byte("a")), append(frame(true, opPing, []byte("p")), frame(true, opContinuation, []byte("b"))...)...),
			[]string{`ping "p"`, `message "ab"`}},
		{"pings answered once, with the latest",
			append(frame(true, opPing, []byte("1")), append(frame(true, opPing, []byte("2")), frame(true, opText, []byte("m"))...)...),
			[]string{`ping "2"`, `message "m"`}},
		{"peer close", frame(true, opClose, []byte{0x0F, 0xA0, 'x'}), []string{`end close 4000 "x"`}},
		{"over the limit", frame(true, opText, bytes.Repeat([]byte("z"), 65)), []string{"end wsmanager: transport closed with code 1009: nbiows: protocol error: a message over the read limit"}},
		{"not UTF-8", frame(true, opText, []byte{0xC3, 0x28}), []string{"end wsmanager: transport closed with code 1007: nbiows: protocol error: a text message that is not UTF-8"}},
		{"unmasked", []byte{0x81, 0x01, 'x'}, []string{"end wsmanager: transport closed with code 1002: nbiows: protocol error: an unmasked frame from a client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, step := range []int{1, 2, 5, len(tt.in) + 1} {
				if got := parsed(t, tt.in, step); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("in pieces of %d: %q, want %q", step, got, tt.want)
				}
			}
		})
	}
}

func TestUnmask(t *testing.T) {
	t.Parallel()
	mask := [4]byte{1, 2, 4, 8}
	for _, pos := range []int64{0, 1, 3, 6} {
		for n := range 40 {
			b := bytes.Repeat([]byte{0x55}, n)
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= mask[(pos+int64(i))&3]
			}
			unmask(b, mask, pos)
			if !bytes.Equal(b, want) {
				t.Fatalf("unmask of %d bytes from %d: %x, want %x", n, pos, b, want)
			}
		}
	}
}
