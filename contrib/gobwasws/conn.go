package gobwasws

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var (
	_ wsmanager.DeadlineConn = (*Conn)(nil)
	_ wsmanager.Conn         = (*Conn)(nil)
	_ wsmanager.BatchConn    = (*Conn)(nil)
)

// Conn is one gobwas/ws server connection seen as a wsmanager.DeadlineConn
// (and, for direct callers, a wsmanager.BatchConn). Read may be called by
// one goroutine at a time; WriteMessages, Write, WriteBatch, CloseWithin
// and Close are safe for concurrent use with each other and with Read, and
// Abort may be called from any goroutine at any time. The zero value is not
// usable: a Conn comes from Upgrader.Upgrade or Upgrader.UpgradeConn.
//
// Every frame the connection writes (messages, pongs, pings, close frames)
// goes through one write lock and is bounded by the socket's write
// deadline: the write's own, or the earliest of the writes waiting for the
// lock, or the past once Abort was called. Nothing else ends a write.
type Conn struct {
	nc          net.Conn
	in          wire
	readLimit   int64
	subprotocol string

	// Owned by the reader: Read is called by one goroutine at a time.
	rhdr       [ws.MaxHeaderSize - 2]byte
	reading    chan struct{} // a one-slot semaphore: held by Read, or by CloseWithin waiting for the peer
	readBroken bool          // held with reading: a Read was interrupted, perhaps inside a frame, or met a frame length it could not parse
	unread     int64         // held with reading: bytes of the current frame's payload not yet read
	failedAt   time.Time     // held with reading: when the reader first met a protocol error and sent its close frame (unless one had gone out)

	// heard is set by every frame the peer sends; the keepalive clears it
	// when it pings, and drops the peer if it is still clear one interval
	// later while one Read has been waiting for it all along.
	heard atomic.Bool
	dead  atomic.Bool
	ping  *time.Timer
	// reads is incremented when a Read starts reading frames and when it
	// stops: odd while one is reading, and different for each.
	reads     atomic.Uint64
	pinged    bool        // owned by keepalive: the last round sent a ping
	pingReads uint64      // owned by keepalive: reads when it pinged
	shut      atomic.Bool // CloseWithin (or Close) was called

	w *wsadapt.FrameWriter // every frame the connection writes

	peerClosed chan struct{} // closed by Read when the peer's close frame arrives
}

// wire reads what the client sent before the handshake completed, then the
// socket.
type wire struct {
	early []byte
	nc    net.Conn
}

func (w *wire) Read(p []byte) (int, error) {
	if len(w.early) > 0 {
		n := copy(p, w.early)
		w.early = w.early[n:]
		if len(w.early) == 0 {
			w.early = nil
		}
		return n, nil
	}
	return w.nc.Read(p)
}

var _ io.Reader = (*wire)(nil)

func newConn(nc net.Conn, early []byte, op ws.OpCode, readLimit int64, ping time.Duration, subprotocol string) *Conn {
	c := &Conn{
		nc:          nc,
		in:          wire{early: early, nc: nc},
		readLimit:   readLimit,
		subprotocol: subprotocol,
		reading:     make(chan struct{}, 1),
		peerClosed:  make(chan struct{}),
	}
	c.w = wsadapt.NewFrameWriter(nc, wsadapt.FrameConfig{
		Op: byte(op), Name: "gobwasws", Closed: ErrClosed, Aborted: ErrAborted, Shut: &c.shut,
	})
	if ping > 0 {
		c.ping = time.AfterFunc(ping, func() { c.keepalive(ping) })
	}
	return c
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string { return c.subprotocol }
