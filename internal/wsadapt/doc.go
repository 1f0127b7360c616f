// Package wsadapt holds what every WebSocket transport adapter in contrib/
// (coderws, gorillaws, gobwasws, nbiows) must decide identically, so that
// it is written once: which origins may open a connection, which subprotocol a
// handshake echoes, which close codes may be sent and how long a reason may
// be, and how a transport's read errors map onto wsmanager's rule (a peer's
// close frame is a *wsmanager.CloseError, an end without one is abnormal).
// It also holds what more than one adapter needs to honour
// wsmanager.DeadlineConn: WriteDeadline, the one mechanism that ends a
// write on a net.Conn; WriteLock, the write lock over it that remembers a
// failed write; FrameWriter, which writes the frames of the adapters that
// encode them themselves; WriteCtx, a write bounded by a context; and
// HijackTap, which keeps a hold on a socket a WebSocket library hijacks
// itself.
//
// It is internal to the contrib adapters and uses only the standard library
// and wsmanager.
package wsadapt
