package gorillaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/contrib/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Conn = (*Conn)(nil)

// closeTimeout bounds both writing the close frame and waiting for the
// peer's answer, as coder/websocket does.
const closeTimeout = 5 * time.Second

// Conn is one gorilla/websocket connection seen as a wsmanager.Conn. Read may
// be called by one goroutine at a time; Write and Close are safe for
// concurrent use with each other and with Read. The zero value is not
// usable: a Conn comes from Upgrader.Upgrade or Wrap.
type Conn struct {
	c   *websocket.Conn
	typ int

	// readLock and writeLock are one-slot semaphores rather than mutexes so
	// that a caller waiting for one gives up when its context ends.
	readLock  chan struct{}
	writeLock chan struct{}

	// mu orders Close against a Read that is about to clear the read
	// deadline, so the deadline Close sets for the handshake always holds.
	mu     sync.Mutex
	closed bool
}

// Wrap returns c as a Conn that writes messages of type typ
// (websocket.TextMessage or websocket.BinaryMessage) and reads messages of
// at most readLimit bytes (no limit if readLimit is not positive). It lets a
// client made with websocket.Dialer use the same interface as the server
// side. The Conn owns c from then on: use c only through it.
func Wrap(c *websocket.Conn, typ int, readLimit int64) *Conn {
	if readLimit > 0 {
		c.SetReadLimit(readLimit)
	}
	return &Conn{
		c:         c,
		typ:       typ,
		readLock:  make(chan struct{}, 1),
		writeLock: make(chan struct{}, 1),
	}
}

// Read returns the next message, text or binary. When the peer sent a
// close frame it returns a *wsmanager.CloseError with the peer's code (1005
// if it carried none); when the connection ended without one, or a message
// over the read limit closed it with 1009, an abnormal error that is never
// io.EOF. If ctx ends while Read waits, the connection is closed and ctx's
// error returned.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	select {
	case c.readLock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.readLock }()

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	deadline, _ := ctx.Deadline() // zero: none, which also clears an old one
	err := c.c.SetReadDeadline(deadline)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}

	stop := context.AfterFunc(ctx, func() { _ = c.c.SetReadDeadline(aLongTimeAgo()) })
	_, msg, err := c.c.ReadMessage()
	if !stop() {
		// ctx ended and its deadline fired or is about to: the connection
		// cannot be read again, so release the socket now.
		_ = c.c.NetConn().Close()
		return nil, ctx.Err()
	}
	return msg, readError(err)
}

// readError maps gorilla's read errors onto wsmanager's rule. gorilla
// reports a connection that ended without a close frame as a CloseError
// with 1006, which no peer can send: that one is abnormal.
func readError(err error) error {
	var ce *websocket.CloseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
		return wsadapt.PeerClosed(ce.Code, ce.Text)
	case errors.As(err, &ce):
		return fmt.Errorf("gorillaws: connection ended without a close frame: %w", io.ErrUnexpectedEOF)
	}
	return wsadapt.Abnormal("gorillaws", err)
}

// Write sends msg as one message. Concurrent calls are serialised. If ctx
// ends before the message is written, the connection is closed, because the
// peer may have seen part of a frame.
func (c *Conn) Write(ctx context.Context, msg []byte) error {
	select {
	case c.writeLock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.writeLock }()

	deadline, _ := ctx.Deadline()
	if err := c.c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	// gorilla's write deadline is a plain field read by the writer, so a
	// cancellation cannot move it; closing the socket is safe from any
	// goroutine and unblocks the write.
	stop := context.AfterFunc(ctx, func() { _ = c.c.NetConn().Close() })
	err := c.c.WriteMessage(c.typ, msg)
	if !stop() {
		return ctx.Err()
	}
	return err
}

// Close sends a close frame with code and reason, waits up to five seconds
// for the peer's answer and closes the socket. A reason longer than 123
// bytes is shortened. Closing a closed connection returns ErrClosed and
// changes nothing. A code that may not be sent closes the socket without a
// handshake and returns an error wrapping ErrCloseCode.
func (c *Conn) Close(code int, reason string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	if !wsadapt.ValidCode(code) {
		c.mu.Unlock()
		_ = c.c.NetConn().Close()
		return fmt.Errorf("%w: %d", ErrCloseCode, code)
	}
	deadline := time.Now().Add(closeTimeout)
	// Bound the wait for the peer's answer before a reader can clear it.
	_ = c.c.SetReadDeadline(deadline)
	c.mu.Unlock()

	msg := websocket.FormatCloseMessage(code, wsadapt.Reason(reason))
	err := c.c.WriteControl(websocket.CloseMessage, msg, deadline)
	if err == nil {
		c.awaitPeerClose()
	} else if errors.Is(err, websocket.ErrCloseSent) {
		// The peer closed first and its frame was answered while reading,
		// or the read limit sent 1009: the handshake is over.
		err = nil
	}
	if cerr := c.c.NetConn().Close(); err == nil && !isClosedConn(cerr) {
		err = cerr
	}
	return err
}

// awaitPeerClose reads, discarding data, until the peer's close frame or the
// read deadline. A Read under way does the reading instead: it returns once
// the close frame arrives, and Close then finds nothing left to wait for.
func (c *Conn) awaitPeerClose() {
	c.readLock <- struct{}{}
	defer func() { <-c.readLock }()
	for {
		if _, _, err := c.c.NextReader(); err != nil {
			return
		}
	}
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string {
	return c.c.Subprotocol()
}
