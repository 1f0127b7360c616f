package statemachine

import "strconv"

// ConnState is the lifecycle state of one long-lived client connection.
//
// A connection is set up in order (Connecting → Accepted → Authenticated →
// ServicesReady → ProcessingReady), is then operational (ProcessingReady,
// Processing, Idle, Degraded), and ends in Closed or Failed. Nothing should be
// written to a connection before it is operational.
//
// A ConnState is a small integer, safe to copy and compare from any
// goroutine; the zero value is Connecting.
type ConnState uint8

// The connection states. ConnTable lists the transitions between them.
const (
	Connecting      ConnState = iota // transport handshake under way
	Accepted                         // transport accepted, identity not yet known
	Authenticated                    // identity known, per-user services not yet attached
	ServicesReady                    // services attached, not yet reading messages
	ProcessingReady                  // ready: messages may be read and written
	Processing                       // handling a message
	Idle                             // ready, with nothing to do for a while
	Degraded                         // usable, with a dependency unavailable
	Reconnecting                     // re-attaching services after a degradation
	Closing                          // close handshake under way
	Closed                           // ended normally
	Failed                           // ended by an error; may be retried from Connecting
)

// numConnStates is the number of ConnState values.
const numConnStates = int(Failed) + 1

// String returns the state's snake_case name, such as "processing_ready".
func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Accepted:
		return "accepted"
	case Authenticated:
		return "authenticated"
	case ServicesReady:
		return "services_ready"
	case ProcessingReady:
		return "processing_ready"
	case Processing:
		return "processing"
	case Idle:
		return "idle"
	case Degraded:
		return "degraded"
	case Reconnecting:
		return "reconnecting"
	case Closing:
		return "closing"
	case Closed:
		return "closed"
	case Failed:
		return "failed"
	}
	return "conn_state(" + strconv.Itoa(int(s)) + ")"
}

// IsSetup reports whether s is one of the set-up states: Connecting,
// Accepted, Authenticated, ServicesReady.
func (s ConnState) IsSetup() bool { return s <= ServicesReady }

// IsOperational reports whether messages may flow in state s:
// ProcessingReady, Processing, Idle or Degraded.
func (s ConnState) IsOperational() bool { return s >= ProcessingReady && s <= Degraded }

// IsTerminal reports whether s ends the connection: Closed or Failed.
func (s ConnState) IsTerminal() bool { return s == Closed || s == Failed }

// ConnTable returns the connection lifecycle table, a new immutable value on
// each call:
//
//	Connecting      → Accepted
//	Accepted        → Authenticated
//	Authenticated   → ServicesReady | Degraded
//	ServicesReady   → ProcessingReady | Degraded
//	ProcessingReady → Processing | Idle | Degraded | Closing
//	Processing      → Idle | ProcessingReady | Degraded | Closing
//	Idle            → Processing | ProcessingReady | Degraded | Closing
//	Degraded        → ProcessingReady | Processing | Idle | Reconnecting | Closing
//	Reconnecting    → ServicesReady | ProcessingReady | Degraded
//	Closing         → Closed
//	Failed          → Connecting
//
// and every state other than Closing, Closed and Failed may also go to Failed
// or Closed.
func ConnTable() *Table[ConnState] {
	edges := map[ConnState][]ConnState{
		Connecting:      {Accepted},
		Accepted:        {Authenticated},
		Authenticated:   {ServicesReady, Degraded},
		ServicesReady:   {ProcessingReady, Degraded},
		ProcessingReady: {Processing, Idle, Degraded, Closing},
		Processing:      {Idle, ProcessingReady, Degraded, Closing},
		Idle:            {Processing, ProcessingReady, Degraded, Closing},
		Degraded:        {ProcessingReady, Processing, Idle, Reconnecting, Closing},
		Reconnecting:    {ServicesReady, ProcessingReady, Degraded},
		Closing:         {Closed},
		Failed:          {Connecting},
	}
	for s := range ConnState(numConnStates) {
		if s != Closing && s != Closed && s != Failed {
			edges[s] = append(edges[s], Failed, Closed)
		}
	}
	return MustNewTable(edges)
}

// Conn is the state machine of one connection: a Machine over ConnTable,
// safe for concurrent use. Its zero value is not usable; create it with
// NewConn.
type Conn = Machine[ConnState]

// NewConn returns a connection machine in state Connecting over a new
// ConnTable.
func NewConn(opts Options) (*Conn, error) {
	return New(ConnTable(), Connecting, opts)
}
