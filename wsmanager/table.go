package wsmanager

import "github.com/ssotkit/ssot/statemachine"

// MachineTable returns the transition table of every Connection's machine, a
// new immutable value on each call. It is statemachine.ConnTable with every
// end routed through Closing:
//
//   - every state other than Closing, Closed and Failed may go to Closing
//     (and to the targets ConnTable gives it, other than Closed and Failed);
//   - Closing goes to Closed or Failed, and nothing else enters them;
//   - Closed and Failed are final.
//
// So a connection's machine reaches Closed or Failed only from Closing, and
// the package enters them only once the transport is closed: a machine it
// moved to a terminal state never has an open transport behind it. The
// table cannot tell who moves a machine; one moved on from Closing by
// anyone else has its transport closed at once. To end a connection, move
// its machine to Closing, call Close, or return an error from the Handler.
func MachineTable() *statemachine.Table[statemachine.ConnState] {
	conn := statemachine.ConnTable()
	edges := make(map[statemachine.ConnState][]statemachine.ConnState)
	for _, s := range conn.States() {
		switch s {
		case statemachine.Closing:
			edges[s] = []statemachine.ConnState{statemachine.Closed, statemachine.Failed}
		case statemachine.Closed, statemachine.Failed:
			edges[s] = nil
		default:
			var to []statemachine.ConnState
			for _, t := range conn.Targets(s) {
				if !t.IsTerminal() && t != statemachine.Closing {
					to = append(to, t)
				}
			}
			edges[s] = append(to, statemachine.Closing)
		}
	}
	return statemachine.MustNewTable(edges)
}
