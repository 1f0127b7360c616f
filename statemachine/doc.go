// Package statemachine provides small, fast, typed state machines and the
// lifecycle machine of a long-lived client connection.
//
// A [Table] is an immutable transition table over any uint8 enum of up to 64
// states, one bitmask per state, validated when it is built. A [Machine] walks
// a table: reading its state is one atomic load, transitions are serialized and
// checked, [Machine.TransitionFrom] is a compare-and-transition for racing
// goroutines, and a bounded ring keeps recent history.
//
// # The connection machine
//
// [ConnState] and [ConnTable] describe a connection from Connecting through
// Accepted, Authenticated and ServicesReady to ProcessingReady, the first state
// in which messages may flow, and on to Closed or Failed. [NewConn] returns a
// [Conn] in Connecting. The wsmanager package drives one per connection, so
// nothing is written before the connection is ready.
//
// # Observers and waiters
//
// [Machine.OnTransition] registers an observer that sees every transition
// exactly once, in order, with no lock held; an observer may itself make
// transitions. [Machine.Wait] blocks until the machine is in a state that
// satisfies a predicate, or the context ends, and sees every state entered,
// even one left at once. [NewObserved] creates a machine with one observer
// registered for its whole life, at no cost beyond the machine's own.
//
// # Cost
//
// With [NoHistory] and no observers or waiters, a transition reads no clock
// and allocates nothing; with history it allocates only while the history
// ring grows to its size (its first, fifth and ninth transitions, with the
// default size), and nothing after that. A failed transition allocates,
// for its *[TransitionError] or *[StaleError].
package statemachine
