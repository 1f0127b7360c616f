// Package gorillaws adapts github.com/gorilla/websocket to the transport
// interfaces of github.com/ssotkit/ssot/wsmanager: [Upgrader] implements
// wsmanager.Upgrader and [Conn] implements wsmanager.DeadlineConn. It is a
// module of its own, so the library depends on no transport:
//
//	go get github.com/ssotkit/ssot/contrib/gorillaws
//
// gorilla/websocket allows one reader and one writer at a time, has no
// contexts and leaves the close handshake to the caller. The adapter adds
// what wsmanager relies on: every frame it writes (messages, pongs, close
// frames) goes through one write lock and is bounded by the socket's write
// deadline, which Abort moves into the past for good; and CloseWithin
// sends the close frame, waits for the peer's answer within its deadline
// and then releases the socket.
//
//	up, err := gorillaws.NewUpgrader(gorillaws.Options{ReadLimit: 64 << 10})
//	if err != nil {
//		return err
//	}
//	ws, err := wsmanager.NewEndpoint(factory, authenticator, up, handler, wsmanager.EndpointOptions{})
//
// # Behaviour worth knowing
//
//   - A peer's close frame, with any code or none, makes Read return a
//     *wsmanager.CloseError, so wsmanager ends the connection in Closed; a
//     connection that ends without one (gorilla's 1006) is an abnormal end,
//     never io.EOF.
//   - A message larger than the read limit fails Read and closes the
//     connection with 1009 (message too big).
//   - A write that reaches its deadline, or that Abort cuts short, leaves the
//     connection unable to write again (gorilla/websocket cannot resume
//     after a timeout), and the close after it closes the socket at once.
//     Cancelling the context of a Read closes the connection.
//   - A write waiting behind another (a pong, another goroutine's write)
//     cuts that one short at its own deadline rather than wait past it.
//   - CloseWithin performs the close handshake within its deadline; Close
//     gives it five seconds. Reasons longer than 123 bytes are shortened.
//   - gorilla/websocket itself answers a message over the read limit with
//     1009 and a protocol error with 1002, each with a timer of its own; the
//     adapter answers pings and close frames through its write lock.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking;
//     only the subprotocol the server asks for is echoed, and only if the
//     client offered it. Both rules are shared with the other contrib
//     adapters, and all of them pass wsmanagertest's conformance suite.
package gorillaws
