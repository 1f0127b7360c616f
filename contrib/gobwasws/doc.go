// Package gobwasws is a WebSocket transport for
// github.com/ssotkit/ssot/wsmanager over github.com/gobwas/ws, built for
// fan-out: its [Conn] implements wsmanager.DeadlineConn, so a connection's
// writer hands it every message waiting at once, with one deadline, and it
// writes them with one writev system call (TestWriteMessagesOneSystemCall),
// frame headers encoded into a buffer the connection keeps and payloads
// written from the senders' slices. A batch allocates nothing
// (TestWriteMessagesAllocates, BenchmarkWriteMessages). It is a module of its own, so the library
// depends on no transport:
//
//	go get github.com/ssotkit/ssot/contrib/gobwasws
//
//	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
//	if err != nil {
//		return err
//	}
//	ws, err := wsmanager.NewEndpoint(factory, authenticator, up, handler, wsmanager.EndpointOptions{})
//
// # Behaviour worth knowing
//
//   - A peer's close frame, with any code or none, makes Read answer it and
//     return a *wsmanager.CloseError, so wsmanager ends the connection in
//     Closed; a connection that ends without one is an abnormal end, never
//     io.EOF.
//   - The server pings every Options.PingInterval; a peer that sends nothing,
//     not even a pong, for a whole interval after a ping while a Read waits
//     for it is dropped, and Read returns ErrNoPong, which wsmanager records
//     as an abnormal end.
//   - A message larger than the read limit, an unmasked frame, a text
//     message that is not UTF-8 and other protocol errors close the
//     connection with 1009, 1002 or 1007. The close that follows reads and
//     discards what the peer still sends, up to 16 MiB and for at most a
//     second, before it closes the socket: a peer that sends a message over
//     the limit of up to that size, and then reads, sees 1009 rather than a
//     reset (TestOversizeCloseReachesSender, TestOversizeCloseBounded).
//   - A frame's payload is allocated as its bytes arrive, not when its
//     header declares its length: a peer that sends headers alone pins
//     little memory (TestReadAllocatesAsBytesArrive).
//   - One mechanism ends a write: the socket's write deadline. A batch sets
//     it once; a write waiting behind another (a pong, a ping) cuts that
//     one short at its own deadline; Abort moves it into the past for good.
//     A write that fails, at its deadline or aborted, leaves the
//     connection unable to write again (the peer may have seen part of a
//     frame), and the close after it closes the socket at once.
//   - CloseWithin performs the close handshake within its deadline; Close
//     gives it five seconds. Reasons longer than 123 bytes are shortened.
//   - Write and WriteBatch, for callers that hold a context rather than a
//     deadline, are WriteMessages bounded by the context's deadline; a
//     context that ends mid-write aborts the connection's writes.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking;
//     only the subprotocol the server asks for is echoed, and only if the
//     client offered it. Both rules are shared with the other contrib
//     adapters, and all of them pass wsmanagertest's conformance suite.
//   - Compression (permessage-deflate) is not offered.
//
// # Two ways to upgrade
//
// Behind an http.Server (and the middleware chain of the golden path),
// [Upgrader.Upgrade] hijacks the connection and writes the 101 response
// straight to the socket. A service that serves WebSockets on a listener of
// its own uses [Upgrader.UpgradeConn] instead: gobwas/ws's zero-copy
// upgrade, which parses the request straight from the socket, copies only
// the headers authentication needs into a [Request], and calls the
// service's accept function to authenticate and reserve the connection
// before it answers (see the example of UpgradeConn).
package gobwasws
