package nbiows

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var (
	_ wsmanager.PushConn     = (*Conn)(nil)
	_ wsmanager.DeadlineConn = (*Conn)(nil)
	_ wsmanager.Conn         = (*Conn)(nil)
	_ wsmanager.BatchConn    = (*Conn)(nil)
)

// Opcodes of RFC 6455 section 5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Conn is one server connection whose socket an Upgrader's engine reads,
// seen as a wsmanager.PushConn (and, for direct callers, a
// wsmanager.BatchConn). Its messages reach a Receiver given to Receive, or
// Read, one at a time and in order, on the Upgrader's workers.
// WriteMessages, Write, WriteBatch, CloseWithin and Close are safe for
// concurrent use with each other and with reading; Read may be called by
// one goroutine at a time, and Abort from any goroutine at any time. The
// zero value is not usable: a Conn comes from Upgrader.Upgrade.
//
// The socket has one descriptor, the engine's: its pollers read it, and
// every frame the connection writes (messages, pongs, pings, close frames)
// is handed to the engine in one contiguous buffer, under one write lock,
// and waited for until the socket took all of it. What the kernel's socket
// buffer cannot take at once, the engine keeps and writes when the socket
// is writable again, and the write waits for it, counting the bytes the
// engine reports written, up to the write's deadline: its own, or the
// earliest of the writes waiting for the lock, or the past once Abort was
// called. Nothing else ends a write.
type Conn struct {
	u           *Upgrader
	nc          atomic.Pointer[nbio.Conn] // the socket, as the engine reads and writes it
	subprotocol string

	// pmu is held by whoever parses what the peer sent: the poller, or
	// Upgrade for what arrived with the request.
	pmu sync.Mutex
	in  parser

	inbox inbox // what was read, until it is delivered

	// heard is set by everything the peer sends; the keepalive clears it
	// when it pings, and drops the peer if it is still clear one interval
	// later.
	heard    atomic.Bool
	dead     atomic.Bool // the keepalive dropped the peer
	ping     *time.Timer
	pinged   bool        // owned by keepalive: the last round sent a ping
	pingStop atomic.Bool // the pings are stopped for good
	shut     atomic.Bool // CloseWithin (or Close) was called
	gone     atomic.Bool // the Upgrader's Close closed the socket

	// peerDone is closed once waiting for the peer is pointless: its close
	// frame arrived, the socket's read side ended, the stream cannot be
	// followed, or, after a protocol error, it sent more than drainLimit.
	peerDone     chan struct{}
	peerDoneOnce sync.Once

	w    *wsadapt.FrameWriter // every frame the connection writes, through sock
	sock engineSocket         // the engine, as the FrameWriter writes to it

	// What the engine was handed and wrote, for the write waiting for
	// the socket to take all of it.
	qmu        sync.Mutex
	handed     int64         // bytes handed to the engine
	written    int64         // bytes the engine reported written
	wdl        time.Time     // the deadline of the write under way; zero: none
	wake       chan struct{} // closed to wake the waiting write; nil while none waits
	unwritable bool          // the engine closed the socket: nothing more is written

	closeOnce sync.Once
}

func newConn(u *Upgrader, subprotocol string) *Conn {
	c := &Conn{
		u:           u,
		subprotocol: subprotocol,
		peerDone:    make(chan struct{}),
	}
	c.sock.c = c
	c.w = wsadapt.NewFrameWriter(&c.sock, wsadapt.FrameConfig{
		Op: u.op, Name: "nbiows", Closed: ErrClosed, Aborted: ErrAborted, Shut: &c.shut,
		Buffers: &u.buffers,
	})
	c.in = parser{limit: u.readLimit}
	c.inbox.init(c)
	if u.ping > 0 {
		// Stopped until startKeepalive: the connection is not read yet.
		c.ping = time.AfterFunc(time.Hour, c.keepalive)
		c.ping.Stop()
	}
	return c
}

// Subprotocol returns the subprotocol the handshake selected, or "" if none.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// signalPeerDone closes peerDone once.
func (c *Conn) signalPeerDone() { c.peerDoneOnce.Do(func() { close(c.peerDone) }) }
