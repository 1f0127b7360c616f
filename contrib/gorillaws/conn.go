package gorillaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var (
	_ wsmanager.DeadlineConn = (*Conn)(nil)
	_ wsmanager.Conn         = (*Conn)(nil)
)

// Conn is one gorilla/websocket connection seen as a wsmanager.DeadlineConn
// (and, for direct callers, a wsmanager.Conn). Read may be called by one
// goroutine at a time; WriteMessages, Write, CloseWithin and Close are safe
// for concurrent use with each other and with Read, and Abort may be called
// from any goroutine at any time. The zero value is not usable: a Conn
// comes from Upgrader.Upgrade or Wrap.
//
// Every frame the adapter writes (messages, pongs, close frames) goes
// through one write lock and is bounded by the socket's write deadline: the
// write's own, or the earliest of the writes waiting for the lock, or the
// past once Abort was called. Nothing else ends a write.
type Conn struct {
	c   *websocket.Conn
	typ int
	// lock is the write lock; its WriteDeadline moves the socket's write
	// deadline. For a Conn from Upgrader.Upgrade, gorilla reaches the
	// socket through that WriteDeadline, so no frame can set a deadline
	// past what Abort or a waiting write set.
	lock *wsadapt.WriteLock

	// readLock is a one-slot semaphore rather than a mutex so that a Read
	// waiting for it gives up when its context ends.
	readLock chan struct{}

	// mu orders CloseWithin against a Read that is about to clear the
	// read deadline, so the deadline CloseWithin sets for the handshake
	// always holds.
	mu     sync.Mutex
	closed bool

	closeSent bool // held with lock: a close frame went out
}

// Wrap returns c as a Conn that writes messages of type typ
// (websocket.TextMessage or websocket.BinaryMessage) and reads messages of
// at most readLimit bytes (no limit if readLimit is not positive). It lets a
// client made with websocket.Dialer use the same interface as the server
// side. The Conn owns c from then on: use c only through it.
//
// gorilla sets the socket's write deadline itself for each frame, and a
// Conn from Wrap cannot stand between them: an Abort, or a waiting write's
// deadline, that lands just as gorilla starts a frame may be overwritten
// by that frame's own deadline, which then bounds the frame. A Conn from
// Upgrader.Upgrade has no such gap.
func Wrap(c *websocket.Conn, typ int, readLimit int64) *Conn {
	return newConn(c, typ, readLimit, wsadapt.NewWriteDeadline(c.NetConn().SetWriteDeadline))
}

func newConn(c *websocket.Conn, typ int, readLimit int64, deadline *wsadapt.WriteDeadline) *Conn {
	if readLimit > 0 {
		c.SetReadLimit(readLimit)
	}
	conn := &Conn{
		c:        c,
		typ:      typ,
		lock:     wsadapt.NewWriteLock(deadline, "gorillaws", ErrAborted),
		readLock: make(chan struct{}, 1),
	}
	// The answers Read writes go through the write lock, like every frame.
	c.SetPingHandler(func(data string) error {
		_ = conn.writeControl(websocket.PongMessage, []byte(data), time.Now().Add(wsadapt.CloseTimeout))
		return nil
	})
	c.SetCloseHandler(func(code int, _ string) error {
		// Echo the peer's code, as RFC 6455 section 5.5.1 suggests.
		_ = conn.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(wsadapt.CloseTimeout))
		return nil
	})
	return conn
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

	stop := context.AfterFunc(ctx, func() { _ = c.c.SetReadDeadline(wsadapt.LongAgo()) })
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
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla has sent the peer 1009 itself.
		return &wsmanager.SentCloseError{Code: websocket.CloseMessageTooBig, Err: wsadapt.Abnormal("gorillaws", err)}
	}
	return wsadapt.Abnormal("gorillaws", err)
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string {
	return c.c.Subprotocol()
}
