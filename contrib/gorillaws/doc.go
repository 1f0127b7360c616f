// Package gorillaws adapts github.com/gorilla/websocket to the transport
// interfaces of github.com/ssotkit/ssot/wsmanager: [Upgrader] implements
// wsmanager.Upgrader and [Conn] implements wsmanager.Conn. It is a module of
// its own, so the library depends on no transport:
//
//	go get github.com/ssotkit/ssot/contrib/gorillaws
//
// gorilla/websocket allows one reader and one writer at a time, has no
// contexts and leaves the close handshake to the caller. The adapter adds
// what wsmanager relies on: Write is safe for concurrent use, every blocking
// call honours its context, and Close sends the close frame, waits for the
// peer's answer and then releases the socket.
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
//   - Cancelling the context of a Read or Write, or reaching its deadline,
//     closes the connection: gorilla/websocket cannot resume after a timeout.
//   - Close waits up to five seconds for the peer's close frame; reasons
//     longer than 123 bytes are shortened.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking;
//     only the subprotocol the server asks for is echoed, and only if the
//     client offered it. Both rules are shared with the other contrib
//     adapters, and all of them pass wsmanagertest's conformance suite.
package gorillaws
