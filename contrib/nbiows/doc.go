// Package nbiows is a readiness-driven WebSocket transport for
// github.com/ssotkit/ssot/wsmanager over github.com/lesismal/nbio: its
// [Conn] implements wsmanager.PushConn, so a connection served with
// Reservation.Go (or EndpointOptions.Detach) holds no goroutine while it
// is idle. An [Upgrader] owns an nbio engine whose pollers (one by default,
// Options.Pollers) wait for every connection's socket to become readable
// and read it, and a pool of workers, at most Options.Workers at once and
// none while nothing arrives, that delivers each connection's messages to
// its Handler, in order, one at a time. TestIdleConnectionsHoldNoGoroutine
// serves 200 idle connections and checks that the process then has no
// more goroutines than before they connected but for Options.Workers and
// a constant few of the runtime's. It is a module of its own, so the
// library depends on no transport:
//
//	go get github.com/ssotkit/ssot/contrib/nbiows
//
//	up, err := nbiows.NewUpgrader(nbiows.Options{})
//	if err != nil {
//		return err
//	}
//	defer up.Close(ctx) // after the Factory's Close
//	ws, err := wsmanager.NewEndpoint(factory, authenticator, up, handler, wsmanager.EndpointOptions{Detach: true})
//
// # When to choose it
//
// Choose it over gobwasws when a node holds many connections that are
// mostly idle, and the memory of a goroutine's stack per connection is
// what limits it. Choose gobwasws otherwise: it works over TLS, has a
// zero-copy upgrade on a listener of its own, and its connections are
// read by the goroutine that runs their Handler, so a busy Handler slows
// its own peer down rather than filling a backlog. nbiows serves plain TCP
// sockets behind an http.Server; TLS is terminated in front of it.
//
// # Behaviour worth knowing
//
//   - Messages read before Receive is called are held and delivered first;
//     Read works for a caller that does not use Receive.
//   - A Handler that blocks holds a worker, and its connection's later
//     messages wait for it; with every worker held, every connection's
//     messages wait. The poller reads on meanwhile, so what a connection
//     holds unhandled is bounded by Options.Backlog: a peer that sends
//     more is closed with 1008 and ErrBacklog.
//   - A peer's close frame, with any code or none, is answered at once and
//     ends reading with a *wsmanager.CloseError, so wsmanager ends the
//     connection in Closed; a connection that ends without one is an
//     abnormal end, never io.EOF.
//   - The server pings every Options.PingInterval, from a timer, with no
//     goroutine in between; a peer that sends nothing, not even a pong, for
//     a whole interval after a ping is dropped and reading ends with
//     ErrNoPong, which wsmanager records as an abnormal end.
//   - A message larger than the read limit, an unmasked frame, a text
//     message that is not UTF-8 and other protocol errors close the
//     connection with 1009, 1002 or 1007, reported as a
//     *wsmanager.SentCloseError. The engine then discards what the peer
//     still sends, up to 16 MiB, and the close waits at most a second for
//     the peer's close frame, so that a peer that sends a message over the
//     limit, and then reads, sees 1009 rather than a reset.
//   - A message's payload is allocated as its bytes arrive, not when its
//     header declares its length, and belongs to the Receiver once
//     delivered: the connection never reuses it.
//   - A connection holds one descriptor, the engine's
//     (TestIdleConnectionsHoldNoGoroutine counts them), so a process's
//     descriptor limit bounds its connections as it bounds any server's.
//     A batch's frames are copied into a buffer, from a pool the Upgrader
//     keeps (an idle connection holds none), and handed to the engine in
//     one write system call when the socket takes it, one for every 64 KiB
//     or so of a larger batch (TestWriteMessagesOneSystemCall); what the
//     socket cannot take at once, the engine keeps and writes when it is
//     writable again, and the batch waits for it, counting what the engine reports written: a
//     batch returns once the socket took all of it. One mechanism ends
//     that wait: the write deadline. A batch sets it once, so a peer that
//     stops reading is found out at the batch's deadline, with an error
//     wrapping os.ErrDeadlineExceeded; a write waiting behind another cuts
//     that one short at its own deadline; Abort moves it into the past for
//     good. A write that fails leaves the connection unable to write
//     again, and the close after it closes the socket at once. (nbio's
//     write of several buffers at once is not used: when the socket takes
//     part of them, it keeps only the rest of the first.)
//   - CloseWithin performs the close handshake within its deadline; Close
//     gives it five seconds. Reasons longer than 123 bytes are shortened.
//   - The request's Origin must match the request host or one of
//     Options.OriginPatterns, which blocks cross-site WebSocket hijacking;
//     only the subprotocol the server asks for is echoed, and only if the
//     client offered it. Both rules are shared with the other contrib
//     adapters, and all of them pass wsmanagertest's conformance suite.
//   - Compression (permessage-deflate) is not offered.
//   - nbio's engine keeps a table with a slot for every file descriptor
//     the process may open (RLIMIT_NOFILE's hard limit, at most about two
//     million), eight bytes each, per Upgrader; a socket whose descriptor
//     does not fit is refused.
//   - nbio logs its engine's start and stop through its own package
//     logger, github.com/lesismal/nbio/logging, to standard output;
//     logging.SetLevel(logging.LevelNone) silences it for the process.
//
// # Shutting down
//
// Upgrader.Close refuses further upgrades, closes what is still open, stops
// the engine's pollers and waits for them and for the workers. Close the
// wsmanager.Factory first (ssot.Shutdown does), so that each connection is
// closed with 1001 after what was queued for it.
package nbiows
