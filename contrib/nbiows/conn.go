package nbiows

import (
	"net"
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
// Reads and writes go through two descriptors of the same socket: the
// engine's, watched by its pollers, and one written by the goroutine that
// writes, in blocking style. Every frame the connection writes (messages,
// pongs, pings, close frames) goes through one write lock and is bounded
// by that descriptor's write deadline: the write's own, or the earliest of
// the writes waiting for the lock, or the past once Abort was called.
// Nothing else ends a write, and nothing the connection writes waits in a
// buffer of its own: what the kernel's socket buffer cannot take, the
// write waits for, up to its deadline.
type Conn struct {
	u           *Upgrader
	wc          net.Conn                  // the socket, for writing
	nc          atomic.Pointer[nbio.Conn] // the socket, as the engine reads it
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

	w *wsadapt.FrameWriter // every frame the connection writes

	closeOnce sync.Once
}

func newConn(u *Upgrader, wc net.Conn, subprotocol string) *Conn {
	c := &Conn{
		u:           u,
		wc:          wc,
		subprotocol: subprotocol,
		peerDone:    make(chan struct{}),
	}
	c.w = wsadapt.NewFrameWriter(wc, wsadapt.FrameConfig{
		Op: u.op, Name: "nbiows", Closed: ErrClosed, Aborted: ErrAborted, Shut: &c.shut,
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
