// Package wsmanager serves long-lived, per-user message connections
// (WebSockets, typically) with strict user isolation: a Factory holds one
// Manager per (UserID, ThreadID), a Manager holds that pair's connections,
// and each Connection has a bounded queue drained by its own writer
// goroutine.
//
// It prevents the failures that hand-written connection registries keep
// having: one user's message reaching another (a Manager has no user
// argument to get wrong), one slow client stalling everyone (Send never
// blocks; a full queue or a stuck write closes only that connection),
// messages written before a connection is ready or lost while it gets ready
// (each connection's statemachine.Conn gates its writer), managers leaking
// forever (an idle janitor removes them), and deadlocks from calling out
// under a lock (no lock is held while a Conn, a Handler, a filter or an
// observer runs).
//
// # Golden path
//
//	f, err := wsmanager.NewFactory(wsmanager.Options{})
//	// handle err; defer f.Close(ctx)
//	h, err := wsmanager.NewEndpoint(f, authenticator, upgrader, handler, wsmanager.EndpointOptions{})
//	// handle err
//	mux.Handle("/ws", h)
//
// NewEndpoint authenticates the request with an auth.Unified, registers the
// connection with the user's Manager, upgrades it through an Upgrader
// (adapters for real WebSocket libraries live outside this module) and
// serves it: a client that sees the handshake complete is already reachable,
// and what is sent to it is queued until it is ready. Services that upgrade
// on their own get the same guarantee from Factory.Reserve. Serve drives the
// connection's machine Connecting → Accepted → Authenticated →
// ServicesReady → ProcessingReady, reads messages into the Handler until the
// connection closes, and ends in Closed or Failed.
//
// Elsewhere in the service, Factory.SendToUser reaches every connection of a
// user, Factory.Broadcast every connection whose UserContext passes a
// filter, and Manager.Send the connections of one thread.
//
// # Delivery
//
// Messages to one connection are written in the order they were queued. Send
// returns as soon as the message is queued; when a connection's queue
// (Options.QueueSize) is full, Options.OnFull closes it with 1008 (the
// default) or drops a message, counted in Stats. A write that takes longer
// than Options.WriteTimeout closes that connection with 1008. Messages are
// shared, not copied, between the connections they are queued to: do not
// modify a slice after sending it.
//
// With Options.Broker, SendToUser also reaches the user's connections on
// the other nodes of a cluster, each connection once; Broadcast stays
// node-local. Delivery across nodes is as reliable as the broker.
//
// # Close codes
//
// Connections are closed with 1000 when the peer closed, 1001 when Serve's
// context ends or the Factory closes, 1008 for a slow consumer or a write
// timeout, 1011 when the Handler fails or panics (the reason never names
// the error), and 1013 when a Manager has MaxConnsPerManager connections.
//
// # Goroutines
//
// A Factory runs one janitor goroutine. Serve runs on the caller's
// goroutine; each connection has at most one writer goroutine, which runs
// only while the connection has messages to write or is closing, so an idle
// connection costs no goroutine of its own. Serve returns only after its
// connection's last writer has closed the Conn; Factory.Close closes every
// connection and waits for all of them.
//
// # Cost
//
// The package's benchmarks measure the figures that matter at scale:
// BenchmarkConnectionSend (one enqueue), BenchmarkFanOut (one message to
// 10,000 in-memory connections, in deliveries/s and bytes allocated per
// connection), BenchmarkManagerLookup (Factory.Manager under parallel load)
// and BenchmarkIdleConnectionMemory, which measures the memory this package
// holds per idle connection as the growth of live heap plus goroutine stacks
// (runtime.MemStats HeapAlloc+StackInuse after a GC) while 10,000
// connections are served, minus the same growth for 10,000 bare in-memory
// connections each with a goroutine blocked in Read.
package wsmanager
