package wsadapt

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Opcodes of RFC 6455 section 5.2 that a FrameWriter treats apart.
const (
	OpClose = 0x8
	OpPing  = 0x9
)

// maxHeader is the largest header of a frame a server sends: unmasked,
// with a 64-bit length.
const maxHeader = 10

// ErrCloseSent is what FrameWriter.WriteControl returns after the close
// frame: RFC 6455 section 5.5.1 allows nothing after it.
const ErrCloseSent = sentinel("close frame already sent")

// FrameConfig is what a FrameWriter takes from its adapter.
type FrameConfig struct {
	// Op is the opcode of the messages: text or binary.
	Op byte
	// Name prefixes the errors the FrameWriter returns.
	Name string
	// Closed and Aborted are the adapter's ErrClosed and ErrAborted.
	Closed, Aborted error
	// Shut is the adapter's record that its close began: once it is set,
	// a batch fails with Closed and TryPing writes nothing.
	Shut *atomic.Bool
	// Buffers, when not nil, makes a batch's frames be copied into a
	// buffer taken from it (a pool of *[]byte the adapter keeps for all
	// its connections, so that an idle one holds none) and written with
	// one Write for every 64 KiB or so (one for a smaller batch): for a
	// Socket that writes one buffer at a time (nbiows's engine). When nil,
	// a batch goes out in one writev from the callers' slices, which a
	// net.Conn does.
	Buffers *sync.Pool
}

// Socket is what a FrameWriter writes to: a net.Conn, or an adapter's own
// socket whose Write returns once all of b is written, or fails, by the
// deadline SetWriteDeadline last gave it.
type Socket interface {
	io.Writer
	SetWriteDeadline(t time.Time) error
}

// maxPooledBuffer is the largest batch buffer a FrameWriter gives back to
// FrameConfig.Buffers: a larger one, for a rare burst, is left to the
// garbage collector.
const maxPooledBuffer = 1 << 20

// FrameWriter writes a server connection's frames for the adapters that
// encode frames themselves (gobwasws over a net.Conn, nbiows over its
// engine): batches of messages, each batch one writev system call, or
// writes of joined buffers (FrameConfig.Buffers), and control frames, all
// through one WriteLock and bounded by the socket's write deadline.
//
// FrameWriter is safe for concurrent use; the zero value is not usable:
// make one with NewFrameWriter.
type FrameWriter struct {
	nc      Socket
	buffers *sync.Pool
	op      byte
	shut    *atomic.Bool
	closed  error
	lock    *WriteLock

	closeSent bool        // held with lock: a close frame went out
	hdrs      []byte      // held with lock: frame headers of the batch being written
	vec       net.Buffers // held with lock: the batch's headers and payloads, for writev
	bufs      net.Buffers // held with lock: what writev consumes of vec; a field, so it never escapes per batch
	ctrl      []byte      // held with lock: one control frame, without Buffers; made for the first
}

// NewFrameWriter returns a FrameWriter that writes to nc and owns its
// write deadline.
func NewFrameWriter(nc Socket, cfg FrameConfig) *FrameWriter {
	return &FrameWriter{
		nc:      nc,
		buffers: cfg.Buffers,
		op:      cfg.Op,
		shut:    cfg.Shut,
		closed:  cfg.Closed,
		lock:    NewWriteLock(NewWriteDeadline(nc.SetWriteDeadline), cfg.Name, cfg.Aborted),
	}
}

// WriteMessages sends msgs, in order, each as one frame, with one writev
// system call for the whole batch: the frame headers are encoded into a
// buffer the FrameWriter keeps, and the payloads are written from the
// callers' slices, never copied, so a batch allocates nothing once the
// buffers have grown to its size; with FrameConfig.Buffers, the frames
// are instead copied into a buffer of the pool and written with one Write
// for every 64 KiB or so. It keeps neither msgs nor their elements.
//
// The socket's write deadline is set once for the batch, to deadline
// (zero: none). A batch that fails leaves the FrameWriter unable to write
// again: the peer may have seen part of a frame.
func (w *FrameWriter) WriteMessages(msgs [][]byte, deadline time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := w.lock.Lock(deadline); err != nil {
		return err
	}
	defer w.lock.Unlock()
	if w.shut.Load() {
		return w.closed
	}
	if err := w.lock.Broken(); err != nil {
		return err
	}
	if err := w.lock.SetDeadline(deadline); err != nil {
		return err
	}
	if w.buffers != nil {
		return w.writeJoined(w.op, msgs)
	}
	need := maxHeader * len(msgs)
	if cap(w.hdrs) < need {
		w.hdrs = make([]byte, 0, need)
	}
	hdrs, vec := w.hdrs[:0], w.vec[:0]
	for _, m := range msgs {
		start := len(hdrs)
		hdrs = appendHeader(hdrs, w.op, len(m))
		vec = append(vec, hdrs[start:len(hdrs):len(hdrs)], m)
	}
	w.hdrs, w.vec, w.bufs = hdrs, vec, vec
	_, err := w.bufs.WriteTo(w.nc)
	clear(vec) // keep no caller's slice
	w.bufs = nil
	if err != nil {
		return w.lock.Fail(err)
	}
	return nil
}

// joinChunk is how many bytes of frames writeJoined gathers before it
// writes them: a batch of large messages goes out in a few writes of
// about this size, each from one buffer of the pool, rather than in one
// buffer as large as the batch, made for it and copied again by a socket
// that cannot take it at once.
const joinChunk = 64 << 10

// writeJoined writes msgs' frames, of op, copied into buffers from
// w.buffers, with one Write for each joinChunk bytes or so (one for a
// batch that is smaller); the caller holds the lock and has set the
// deadline.
func (w *FrameWriter) writeJoined(op byte, msgs [][]byte) error {
	size := 0
	for _, m := range msgs {
		size += maxHeader + len(m)
	}
	b, _ := w.buffers.Get().(*[]byte)
	if want := min(size, joinChunk); b == nil || cap(*b) < want {
		if b != nil {
			w.buffers.Put(b)
		}
		nb := make([]byte, 0, max(want, 4096))
		b = &nb
	}
	buf := (*b)[:0]
	var err error
	for i, m := range msgs {
		buf = appendHeader(buf, op, len(m))
		buf = append(buf, m...)
		if len(buf) >= joinChunk || i == len(msgs)-1 {
			if _, err = w.nc.Write(buf); err != nil {
				break
			}
			buf = buf[:0]
		}
	}
	if cap(buf) <= maxPooledBuffer {
		*b = buf[:0]
		w.buffers.Put(b)
	}
	if err != nil {
		return w.lock.Fail(err)
	}
	return nil
}

// WriteControl writes one control frame of op, due by deadline, unless a
// close frame already went out or an earlier write failed: then it returns
// ErrCloseSent or that write's error and writes nothing.
func (w *FrameWriter) WriteControl(op byte, payload []byte, deadline time.Time) error {
	if err := w.lock.Lock(deadline); err != nil {
		return err
	}
	defer w.lock.Unlock()
	if err := w.lock.Broken(); err != nil {
		return err
	}
	if w.closeSent {
		return ErrCloseSent
	}
	if err := w.lock.SetDeadline(deadline); err != nil {
		return err
	}
	return w.writeControlLocked(op, payload)
}

// TryPing writes a ping due by deadline if no write holds the lock, the
// adapter's close has not begun, no close frame went out and no write
// failed, and reports whether it wrote one: a busy writer's own deadline
// watches the peer.
func (w *FrameWriter) TryPing(deadline time.Time) bool {
	if !w.lock.TryLock() {
		return false
	}
	defer w.lock.Unlock()
	if w.shut.Load() || w.lock.Broken() != nil || w.closeSent || w.lock.SetDeadline(deadline) != nil {
		return false
	}
	return w.writeControlLocked(OpPing, nil) == nil
}

// WriteClose writes the close frame of the adapter's close handshake, with
// code and reason (shortened by Reason), due by deadline, unless one
// already went out. It reports whether waiting for the peer's answer makes
// sense, and the error of a close frame that failed. It writes nothing and
// reports no wait, without an error, when the peer is known to be stuck:
// deadline has passed, Abort was called or an earlier write failed.
func (w *FrameWriter) WriteClose(code int, reason string, deadline time.Time) (wait bool, err error) {
	if !time.Now().Before(deadline) || w.lock.Aborted() {
		return false, nil
	}
	if err := w.lock.Lock(deadline); err != nil {
		return false, nil
	}
	defer w.lock.Unlock()
	if w.lock.Broken() != nil {
		return false, nil
	}
	if w.closeSent {
		return true, nil
	}
	if err := w.lock.SetDeadline(deadline); err != nil {
		return false, err
	}
	reason = Reason(reason)
	body := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	if err := w.writeControlLocked(OpClose, append(body, reason...)); err != nil {
		return false, err
	}
	return true, nil
}

// writeControlLocked writes one control frame; the caller holds the lock
// and has set the deadline.
func (w *FrameWriter) writeControlLocked(op byte, payload []byte) error {
	if op == OpClose {
		w.closeSent = true
	}
	if w.buffers != nil {
		return w.writeJoined(op, [][]byte{payload})
	}
	if w.ctrl == nil {
		w.ctrl = make([]byte, 0, 2+125)
	}
	frame := append(appendHeader(w.ctrl[:0], op, len(payload)), payload...)
	if _, err := w.nc.Write(frame); err != nil {
		return w.lock.Fail(err)
	}
	return nil
}

// Abort moves the socket's write deadline into the past for good: the
// write under way returns at once, and every later one fails with the
// adapter's ErrAborted.
func (w *FrameWriter) Abort() { w.lock.Abort() }

// Aborted reports whether Abort was called.
func (w *FrameWriter) Aborted() bool { return w.lock.Aborted() }

// appendHeader appends the header of an unmasked, final frame of op with
// an n-byte payload, as a server sends it (RFC 6455 section 5.2).
func appendHeader(dst []byte, op byte, n int) []byte {
	b0 := 0x80 | op
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(n))
}
