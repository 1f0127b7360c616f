// Package wsmanager serves long-lived, per-user message connections
// (WebSockets, typically) with strict user isolation: a Factory holds one
// Manager per (UserID, ThreadID), a Manager holds that pair's connections,
// and each Connection has a state machine, a bounded queue and a writer
// goroutine that runs only while there is something to write.
//
// It prevents the failures hand-written connection registries keep having:
// one user's message reaching another (a Manager has no user argument to get
// wrong); one slow client stalling everyone (Send never waits for a peer; a
// full queue or a write past its deadline closes only that connection); messages
// written before a connection is ready or lost while it gets ready (the
// connection's machine decides every write, and what is sent during set-up
// waits in the queue); clean client closes recorded as failures; managers
// leaking forever (an idle janitor removes them, and no server-side send
// creates one); and deadlocks from calling out under a lock (no lock is held
// while a transport, a Handler, a filter or an observer runs).
//
// # Golden path
//
//	f, err := wsmanager.NewFactory(wsmanager.Options{})
//	// handle err; defer f.Close(ctx)
//	h, err := wsmanager.NewEndpoint(f, authenticator, upgrader, handler, wsmanager.EndpointOptions{
//		Subprotocol: "chat.v1", // what browsers offer beside their token
//	})
//	// handle err
//	mux.Handle("/ws", h)
//
// A browser cannot set headers on a WebSocket, so it sends its token as a
// subprotocol beside the application's: new WebSocket(url, ["chat.v1",
// "bearer." + base64url(token)]). The endpoint authenticates that token
// and echoes "chat.v1", never the token's entry; a client offering its
// token alone is refused with HTTP 400 saying what to add. Other clients
// send "Authorization: Bearer <token>".
//
// NewEndpoint authenticates the request with an auth.Unified, reserves a
// connection with the user's Manager, upgrades the request through an
// Upgrader (adapters for real WebSocket libraries live in
// github.com/ssotkit/ssot/contrib) and serves it: a client that sees the
// handshake complete is already reachable, and what is sent to it is queued
// until it is ready. Services that upgrade on their own use Factory.Reserve
// and Reservation.Serve, the one way in that NewEndpoint, Factory.Serve and
// Manager.Serve wrap.
//
// Elsewhere in the service, Factory.SendToUser reaches every connection of a
// user, Factory.Broadcast every connection whose UserContext passes a
// filter, and Factory.Lookup finds a thread's Manager for Manager.Send.
//
// # Lifecycle
//
// Each connection's statemachine.Conn, over MachineTable, is the one record
// of its lifecycle. Serve drives it Connecting → Accepted → Authenticated →
// ServicesReady → ProcessingReady. The writer hands messages to the
// transport only while the machine is operational (ProcessingReady,
// Processing, Idle, Degraded); in Reconnecting they wait in the queue. A
// transition to Closing, by the package or by anyone else (a handler
// included), closes the connection; the machine reaches Closed or Failed
// only from Closing, once the transport is closed. A peer's close (a
// *CloseError or io.EOF from the transport's Read) ends in Closed and Serve
// returns nil; an abnormal end ends in Failed and Serve returns the error.
// Options.OnDisconnect runs once per served connection when it has ended.
//
// # Delivery
//
// Messages to one connection are written in the order they were queued.
// Send returns as soon as the message is queued. A queue is bounded in
// bytes (Options.QueueBytes, 1 MiB by default, each message counting its
// payload and its slot) and in messages (Options.QueueSize, which by
// default the bytes reach first), one slot freed per message handed over:
// a reader that keeps up takes any burst that fits. When it is full,
// Options.OnFull closes the connection with 1008 (the default), refuses the
// new message or discards the oldest. The writer hands the transport
// everything waiting in one call, up to 1,024 messages (DeadlineConn,
// BatchConn), with one deadline, Options.WriteTimeout away: a peer that
// stops reading is closed with 1008 once a write has waited that long.
// Options.ReadRate bounds what a client may send. Messages are shared, not
// copied, between the connections they are queued to: do not modify a
// slice after sending it.
//
// Closing with Connection.Close, Manager.Close, Factory.Close or a
// transition to Closing writes what was queued before it to a peer still
// reading, then the close frame, if the machine was operational then;
// otherwise (set-up, Reconnecting) nothing more is written. A slow
// consumer, an expired identity, a peer's close and every failure discard
// what is left. Stats counts every message queued once as written, dropped
// or discarded, and every served connection's end by outcome and close
// code (Connection.Ending).
//
// A handler moves its connection's state through the Connection's verbs
// (SetProcessing, SetIdle, SetDegraded, Pause, Resume, Close) and reads it
// with State; an identity given to Reserve or Serve expires the connection
// at its ExpiresAt unless Connection.Refresh moves it.
//
// # Clusters
//
// With Options.Broker, SendToUser also reaches the user's connections on
// the other nodes of a cluster, each connection once; Broadcast stays
// node-local. NewFactory chooses how messages travel once: this node alone
// (no Broker), a Broker (published to the other nodes, as reliable as the
// broker), or a Log with Options.History (stored first, then delivered by
// every node with its position). A Broker that is a Router, or a Log that
// is a LogRouter, as the adapters in github.com/ssotkit/ssot/contrib are,
// routes by interest: a node subscribes at the broker to exactly the users
// it holds a Manager for, before their first connection is registered, so
// each node receives only its own users' messages and a cluster's capacity
// grows with its nodes. An AsyncLog pipelines appends. Options.BrokerKey
// authenticates the nodes' messages to each other.
//
// Factory.DisconnectUser closes a user's connections on every node (a
// logout everywhere, a ban). Factory.Drain prepares a node to stop in a
// rolling deploy: it refuses new connections and closes its own with 1012
// in paced, jittered batches, so that clients reconnect to the other nodes
// a few at a time and, with a Log, resume there.
//
// # Resuming
//
// With Options.History, SendToUser and Manager.Send messages get a
// Position in their user's stream and the last ones are kept; a client that
// reconnects presents the position of the last message it handled
// (Factory.ReserveResume, or the endpoint's resume query parameter) and
// gets every message it missed, in order and once, before anything live,
// or a reset when that position is no longer held. A Broker that
// implements Log keeps the streams in the cluster, so a client resumes on
// any node.
//
// # Close codes
//
// The package closes connections with 1000 when the peer closed or the
// machine was moved to Closing, 1001 when Serve's context ends or the
// Factory closes, 1008 for a slow consumer, a write timeout or an expired
// identity, 1011 when the Handler fails or panics or the transport fails
// (the reason never names the error), 1012 when Factory.Drain sends the
// client elsewhere, and 1013 for the connection, thread and factory limits
// and while draining. Factory.DisconnectUser closes with the code given.
//
// # Goroutines
//
// A Factory runs one janitor goroutine; a Broker or Log runs its own to
// deliver to it. Each connection has at most one writer goroutine, which
// runs only while the connection has messages to write or is closing.
// Reading is the transport's: a pull transport (Conn) is read by the
// goroutine serving the connection, Serve's caller or, with Reservation.Go,
// one of the Factory's, for the connection's whole life; a PushConn
// (github.com/ssotkit/ssot/contrib/nbiows) calls back on its own goroutines
// when a message arrives, so a connection it serves with Reservation.Go (or
// EndpointOptions.Detach) holds no goroutine while it is idle. Serve
// returns only after its connection's writer has closed the transport;
// Factory.Close closes every connection and waits for all of them.
//
// A connection keeps the queue ring and batch buffer a burst grew until
// the janitor's next sweep finds it with nothing to write (every
// IdleTimeout/4), then keeps small ones: a connection sent burst after
// burst allocates nothing for each, and one that goes quiet gives the
// memory back.
//
// # Cost
//
// The package's benchmarks measure the figures that matter at scale:
// BenchmarkConnectionSend (one enqueue), BenchmarkFanOut and
// BenchmarkFanOutWriteEach (one message to 10,000 in-memory connections,
// with and without batched writes, in deliveries/s and bytes allocated per
// connection), BenchmarkManagerLookup (Factory.Manager under parallel
// load), BenchmarkSendToUserHistory (SendToUser with history off and on,
// with the messages each write carried), BenchmarkReplay10k (a resume
// after 10,000 missed messages) and BenchmarkIdleConnectionMemory, which
// measures the memory this package holds per idle connection as the growth
// of live heap plus goroutine stacks (runtime.MemStats HeapAlloc+StackInuse
// after a GC) while 10,000 connections are served, minus the same growth
// for 10,000 bare in-memory connections each with a goroutine blocked in
// Read; BenchmarkIdlePushConnectionMemory measures the same for a
// PushConn served with Reservation.Go, one connection per user, and the
// goroutines those connections hold: none.
package wsmanager
