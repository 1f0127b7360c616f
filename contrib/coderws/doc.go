// Package coderws adapts github.com/coder/websocket to the transport
// interfaces of github.com/ssotkit/ssot/wsmanager: [Upgrader] implements
// wsmanager.Upgrader and [Conn] implements wsmanager.DeadlineConn. It is a
// module of its own, so the library depends on no transport:
//
//	go get github.com/ssotkit/ssot/contrib/coderws
//
// coder/websocket is context-aware, safe for concurrent writes and performs
// the close handshake itself, so the adapter is thin. It writes one frame
// per message, and since coder/websocket's API takes a context per write,
// each batch wsmanager hands it costs a context with the batch's deadline
// (BenchmarkWriteMessages); for fan-out to many connections,
// contrib/gobwasws batches into one system call without allocating.
//
//	up, err := coderws.NewUpgrader(coderws.Options{ReadLimit: 64 << 10})
//	if err != nil {
//		return err
//	}
//	ws, err := wsmanager.NewEndpoint(factory, authenticator, up, handler, wsmanager.EndpointOptions{})
//
// # Behaviour worth knowing
//
//   - A peer's close frame, with any code or none, makes Read return a
//     *wsmanager.CloseError, so wsmanager ends the connection in Closed; a
//     connection that ends without one is an abnormal end, never io.EOF.
//   - A message larger than the read limit fails Read and closes the
//     connection with 1009 (message too big).
//   - A write that reaches its deadline, or that Abort cuts short, closes
//     the connection, as does cancelling the context of a Read or Write: a
//     WebSocket cannot resume after a partial frame.
//   - CloseWithin performs the close handshake and closes the socket at its
//     deadline, or at once once it has passed or after Abort; Close leaves
//     the bounds to coder/websocket (five seconds to send the close frame,
//     five for the answer). Reasons longer than 123 bytes are shortened.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking;
//     only the subprotocol the server asks for is echoed, and only if the
//     client offered it. Both rules are shared with the other contrib
//     adapters, and all of them pass wsmanagertest's conformance suite.
package coderws
