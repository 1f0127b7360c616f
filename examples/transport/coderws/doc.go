// Package coderws adapts github.com/coder/websocket to the transport
// interfaces of github.com/ssotkit/ssot/wsmanager: [Upgrader] implements
// wsmanager.Upgrader and [Conn] implements wsmanager.Conn.
//
// It is the primary transport of the examples: coder/websocket is
// context-aware, safe for concurrent writes and performs the close handshake
// itself, so the adapter is thin. Copy it into a service as it is.
//
//	up, err := coderws.NewUpgrader(coderws.Options{ReadLimit: 64 << 10})
//	if err != nil {
//		return err
//	}
//	ws, err := wsmanager.NewEndpoint(factory, authenticator, up, handler, wsmanager.EndpointOptions{})
//
// # Behaviour worth knowing
//
//   - A message larger than the read limit fails Read and closes the
//     connection with 1009 (message too big).
//   - Cancelling the context of a Read or Write closes the connection: a
//     WebSocket cannot resume after a partial frame.
//   - Close performs the close handshake and waits up to five seconds for the
//     peer to answer; reasons longer than 123 bytes are shortened.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking.
package coderws
