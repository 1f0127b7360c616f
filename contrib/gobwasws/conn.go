package gobwasws

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/contrib/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var (
	_ wsmanager.Conn      = (*Conn)(nil)
	_ wsmanager.BatchConn = (*Conn)(nil)
)

// closeTimeout bounds writing the close frame and waiting for the peer's
// answer, as the other contrib adapters do.
const closeTimeout = 5 * time.Second

// maxHeader is the largest header of a frame the server sends: unmasked,
// with a 64-bit length.
const maxHeader = 10

// Conn is one gobwas/ws server connection seen as a wsmanager.BatchConn.
// Read may be called by one goroutine at a time; Write, WriteBatch and
// Close are safe for concurrent use with each other and with Read. The zero
// value is not usable: a Conn comes from Upgrader.Upgrade.
type Conn struct {
	nc          net.Conn
	in          wire
	op          ws.OpCode
	readLimit   int64
	subprotocol string

	// Owned by the reader: Read is called by one goroutine at a time.
	rhdr    [ws.MaxHeaderSize - 2]byte
	rctx    watch
	reading chan struct{} // a one-slot semaphore: held by Read, or by Close waiting for the peer

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
	shut      atomic.Bool // Close was called; read without the write lock

	wmu       writeLock // one frame sequence on the wire at a time
	closed    bool      // Close was called
	closeSent bool      // a close frame went out
	broken    bool      // a write failed: the stream may hold part of a frame
	hdrs      []byte    // frame headers of the batch being written
	vec       [][]byte  // the batch's headers and payloads, for writev
	wctx      watch

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

func newConn(nc net.Conn, early []byte, op ws.OpCode, readLimit int64, ping time.Duration, subprotocol string) *Conn {
	c := &Conn{
		nc:          nc,
		wmu:         make(writeLock, 1),
		in:          wire{early: early, nc: nc},
		op:          op,
		readLimit:   readLimit,
		subprotocol: subprotocol,
		reading:     make(chan struct{}, 1),
		peerClosed:  make(chan struct{}),
	}
	c.rctx.onDone, c.rctx.clear = c.interruptRead, c.clearReadDeadline
	c.wctx.onDone, c.wctx.clear = c.interruptWrite, c.clearWriteDeadline
	if ping > 0 {
		c.ping = time.AfterFunc(ping, func() { c.keepalive(ping) })
	}
	return c
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// aLongTimeAgo is a deadline already passed: it makes a blocked socket
// operation return at once.
func aLongTimeAgo() time.Time { return time.Unix(1, 0) }

func (c *Conn) interruptRead()  { _ = c.nc.SetReadDeadline(aLongTimeAgo()) }
func (c *Conn) interruptWrite() { _ = c.nc.SetWriteDeadline(aLongTimeAgo()) }

// clearReadDeadline undoes interruptRead, unless Close set the deadline
// its handshake waits with.
func (c *Conn) clearReadDeadline() {
	if !c.shut.Load() {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
}

func (c *Conn) clearWriteDeadline() { _ = c.nc.SetWriteDeadline(time.Time{}) }

// Write sends msg as one message, as WriteBatch does for one message.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	return c.WriteBatch(ctx, [][]byte{msg})
}

// WriteBatch sends msgs, in order, each as one frame, with one writev
// system call for the whole batch: the frame headers are encoded into a
// buffer the connection keeps, and the payloads are written from the
// callers' slices, never copied. It keeps neither msgs nor their elements.
//
// When ctx ends, or its deadline passes, while the batch waits for another
// write to finish (a ping stuck on a peer that does not read, another
// goroutine's batch), it gives up with ctx's error and the connection is
// left whole. When ctx ends while the batch is being written, the write
// gives up and the connection can no longer be written to: the peer may
// have seen part of a frame. ctx is watched with context.AfterFunc,
// registered once for as long as the same context comes back: wsmanager
// hands every write of a connection the same context, so its writes pay
// for no timer, goroutine or allocation.
func (c *Conn) WriteBatch(ctx context.Context, msgs [][]byte) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := c.wmu.LockContext(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.broken:
		return fmt.Errorf("gobwasws: an earlier write failed: %w", net.ErrClosed)
	}
	if err := c.wctx.begin(ctx); err != nil {
		return err
	}
	need := maxHeader * len(msgs)
	if cap(c.hdrs) < need {
		c.hdrs = make([]byte, 0, need)
	}
	hdrs, vec := c.hdrs[:0], c.vec[:0]
	for _, m := range msgs {
		start := len(hdrs)
		hdrs = appendHeader(hdrs, c.op, len(m))
		vec = append(vec, hdrs[start:len(hdrs):len(hdrs)], m)
	}
	c.hdrs, c.vec = hdrs, vec
	bufs := net.Buffers(vec)
	_, err := bufs.WriteTo(c.nc)
	clear(vec) // keep no caller's slice
	if err != nil {
		c.broken = true
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("gobwasws: write: %w", err)
	}
	return nil
}

// writeLock is a connection's write lock: a one-slot channel rather than a
// mutex, so that a write waiting for another (a ping stuck on a peer that
// does not read, or another goroutine's batch) gives up when its own
// context ends, without touching the write under way, and leaves the
// connection whole.
type writeLock chan struct{}

func (l writeLock) Lock()   { l <- struct{}{} }
func (l writeLock) Unlock() { <-l }

// TryLock takes the lock if it is free.
func (l writeLock) TryLock() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

// LockContext takes the lock, or returns ctx's error if ctx ends first (or
// has ended: then the lock is never taken).
func (l writeLock) LockContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// appendHeader appends the header of an unmasked, final frame of op with an
// n-byte payload, as a server sends it (RFC 6455 section 5.2).
func appendHeader(dst []byte, op ws.OpCode, n int) []byte {
	b0 := 0x80 | byte(op)
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(n))
}

// writeControl writes one control frame, with the deadline given; the
// caller holds wmu.
func (c *Conn) writeControlLocked(op ws.OpCode, payload []byte, deadline time.Time) error {
	if c.broken {
		return net.ErrClosed
	}
	_ = c.nc.SetWriteDeadline(deadline)
	defer c.nc.SetWriteDeadline(time.Time{})
	frame := appendHeader(make([]byte, 0, 2+len(payload)), op, len(payload))
	if n, err := c.nc.Write(append(frame, payload...)); err != nil {
		// A write that put nothing on the wire leaves the stream whole:
		// Close interrupting a pong or a ping must not keep its own close
		// frame from going out.
		c.broken = c.broken || n > 0
		return err
	}
	return nil
}

// Close sends a close frame with code and reason, waits up to five seconds
// for the peer's answer (read by the Read under way, if any, or by Close
// itself) and closes the socket. A write under way on another goroutine is
// interrupted first, and the close frame then cannot be sent. A reason longer than 123 bytes is
// shortened. Closing a closed connection returns ErrClosed and changes
// nothing. A code that may not be sent closes the socket without a
// handshake and returns an error wrapping ErrCloseCode.
func (c *Conn) Close(code int, reason string) error {
	if !c.wmu.TryLock() {
		// A write under way on another goroutine: make it give up, so
		// Close does not wait for a peer that may never read.
		c.interruptWrite()
		c.wmu.Lock()
	}
	if c.closed {
		c.wmu.Unlock()
		return ErrClosed
	}
	c.closed = true
	c.shut.Store(true)
	c.wctx.stop()
	if c.ping != nil {
		c.ping.Stop()
	}
	if !wsadapt.ValidCode(code) {
		c.wmu.Unlock()
		_ = c.nc.Close()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	deadline := time.Now().Add(closeTimeout)
	var err error
	if !c.closeSent {
		c.closeSent = true
		err = c.writeControlLocked(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), wsadapt.Reason(reason)), deadline)
	}
	c.wmu.Unlock()
	if err == nil {
		c.awaitPeerClose(deadline)
	}
	if cerr := c.nc.Close(); err == nil {
		err = cerr
	}
	return err
}

// awaitPeerClose waits until the peer's close frame arrives or the deadline
// passes. A Read under way does the reading and signals the close frame;
// otherwise Close reads, discarding data, itself.
func (c *Conn) awaitPeerClose(deadline time.Time) {
	_ = c.nc.SetReadDeadline(deadline)
	select {
	case <-c.peerClosed:
		return
	case c.reading <- struct{}{}:
	}
	defer func() { <-c.reading }()
	for {
		select {
		case <-c.peerClosed:
			return
		default:
		}
		if f, err := c.readFrame(); err != nil || f.h.OpCode == ws.OpClose {
			return
		}
	}
}

// keepalive runs every interval on the timer's goroutine, one round at a
// time: it drops a peer that has sent nothing since the last round's ping,
// and pings the others. Only a Read tells what the peer sent, so the peer
// is judged only when one Read has been reading since the ping: while the
// server is busy elsewhere (a handler that takes a few intervals), the
// pong waits unread in the socket and the peer is not dead.
func (c *Conn) keepalive(interval time.Duration) {
	reads := c.reads.Load()
	watched := reads%2 == 1 && reads == c.pingReads
	if c.pinged && watched && !c.heard.Load() && c.dead.CompareAndSwap(false, true) {
		// Nothing since the last ping, not even a pong: the socket is
		// dropped, and Read reports ErrNoPong.
		_ = c.nc.Close()
		return
	}
	c.heard.Store(false)
	c.pinged = false
	c.pingReads = reads
	// A busy writer holds the lock; its own deadline watches that peer, so
	// this round goes without a ping.
	if c.wmu.TryLock() {
		if !c.closed {
			c.pinged = c.writeControlLocked(ws.OpPing, nil, time.Now().Add(interval)) == nil
		}
		c.wmu.Unlock()
	}
	c.wmu.Lock()
	closed := c.closed
	c.wmu.Unlock()
	if !closed {
		c.ping.Reset(interval)
	}
}

// watch interrupts the operation under way (a Read, a WriteBatch, or
// whatever holds the socket then) when the context it watches ends. It
// registers with context.AfterFunc once for as long as the same context
// comes back, as wsmanager's does. A call with another context, the usual
// context per call, drops the registration and undoes any interrupt it
// made: a context that ended after its call returned never fails a later
// call made with another one.
type watch struct {
	onDone func() // interrupts the operation under way
	clear  func() // undoes onDone
	ctx    context.Context
	cancel func() bool

	mu  sync.Mutex
	gen uint64 // the registration that may still act
}

// begin makes w watch ctx for an operation about to start, and returns
// ctx's error if it has already ended.
func (w *watch) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sameContext(ctx, w.ctx) {
		return nil
	}
	w.stop()
	w.mu.Lock()
	// The registration just dropped may have interrupted before it was
	// dropped; it can no longer.
	w.clear()
	gen := w.gen
	w.mu.Unlock()
	w.ctx = ctx
	if ctx.Done() != nil {
		w.cancel = context.AfterFunc(ctx, func() { w.fire(gen) })
	}
	return nil
}

// fire is the interrupt of registration gen.
func (w *watch) fire(gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen == gen {
		w.onDone()
	}
}

// stop ends the registration, if any.
func (w *watch) stop() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.mu.Lock()
	w.gen++
	w.mu.Unlock()
	w.ctx = nil
}

// sameContext reports whether a and b are the same context. Contexts are
// compared as interface values; a context whose dynamic type is not
// comparable is never the same.
func sameContext(a, b context.Context) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

var _ io.Reader = (*wire)(nil)
