package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// client is one WebSocket client of a client process, as lean as a
// receiver can be: the clients share the machine's cores with the server
// under test, so what a client costs per message is taken from the
// server. It reads frames straight from a buffered connection into one
// reused buffer, without allocating, so one read(2) takes in every frame
// waiting; the frames of a message are joined, pings are answered, and
// the server's close ends reading.
type client struct {
	nc  net.Conn
	br  *bufio.Reader
	msg []byte // the message being read, reused
	lat []int64
}

// clientReadBuffer is each client's read buffer.
const clientReadBuffer = 4096

// dial opens a client's WebSocket to url. A stuck client gets a 4 KiB
// receive buffer, so that when it stops reading its server side backs up.
func dial(ctx context.Context, url string, stuck bool, messages int) (*client, error) {
	d := ws.Dialer{}
	if stuck {
		d.NetDial = smallBufferDialer().DialContext
	}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var rd io.Reader = nc
	if br != nil {
		rd = io.MultiReader(br, nc)
	}
	return &client{nc: nc, br: bufio.NewReaderSize(rd, clientReadBuffer), lat: make([]int64, 0, messages)}, nil
}

func smallBufferDialer() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
}

// send writes msg as one masked text frame, as a client must.
func (c *client) send(msg []byte) error {
	return ws.WriteFrame(c.nc, ws.MaskFrameInPlace(ws.NewTextFrame(msg)))
}

// next returns the next message, valid until the next call.
func (c *client) next() ([]byte, error) {
	c.msg = c.msg[:0]
	for {
		fin, op, n, err := c.header()
		if err != nil {
			return nil, err
		}
		if op.IsControl() {
			if err := c.control(op, n); err != nil {
				return nil, err
			}
			continue
		}
		start := len(c.msg)
		c.msg = append(c.msg, make([]byte, n)...)[:start+n]
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return nil, err
		}
		if fin {
			return c.msg, nil
		}
	}
}

// control handles a control frame with an n-byte payload: a ping is
// answered, a close ends the connection.
func (c *client) control(op ws.OpCode, n int) error {
	var p [125]byte
	if n > len(p) {
		return fmt.Errorf("control frame of %d bytes", n)
	}
	if _, err := io.ReadFull(c.br, p[:n]); err != nil {
		return err
	}
	switch op {
	case ws.OpPing:
		return ws.WriteFrame(c.nc, ws.MaskFrameInPlace(ws.NewPongFrame(p[:n])))
	case ws.OpClose:
		return io.EOF
	}
	return nil
}

// header reads a frame header from the server, whose frames are not
// masked.
func (c *client) header() (fin bool, op ws.OpCode, n int, err error) {
	var h [8]byte
	if _, err := io.ReadFull(c.br, h[:2]); err != nil {
		return false, 0, 0, err
	}
	fin, op = h[0]&0x80 != 0, ws.OpCode(h[0]&0x0f)
	if h[1]&0x80 != 0 {
		return false, 0, 0, errors.New("masked frame from the server")
	}
	switch l := h[1] & 0x7f; l {
	case 126:
		if _, err := io.ReadFull(c.br, h[:2]); err != nil {
			return false, 0, 0, err
		}
		n = int(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err := io.ReadFull(c.br, h[:8]); err != nil {
			return false, 0, 0, err
		}
		n = int(binary.BigEndian.Uint64(h[:8]))
		if n < 0 || n > 1<<24 {
			return false, 0, 0, fmt.Errorf("frame of %d bytes", n)
		}
	default:
		n = int(l)
	}
	return fin, op, n, nil
}

// readIdle is an idle client's reading: it receives, answering pings,
// until the connection ends, and counts in delivered every message, which
// an idle client should not get.
func (c *client) readIdle(w wire, delivered *atomic.Int64) error {
	for {
		err := w.receive(c, func([]byte) error { delivered.Add(1); return nil })
		if err != nil {
			return err
		}
	}
}

// read receives until n messages arrived or the connection fails, and
// calls delivered with the arrival time of each.
func (c *client) read(w wire, n int, delivered func(now int64)) error {
	for len(c.lat) < n {
		err := w.receive(c, func(payload []byte) error {
			now := time.Now().UnixNano()
			sent, err := sentAt(payload)
			if err != nil {
				return err
			}
			c.lat = append(c.lat, now-sent)
			delivered(now)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
