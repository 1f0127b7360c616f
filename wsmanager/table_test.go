package wsmanager_test

import (
	"testing"

	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestMachineTable checks every pair of states against the rule MachineTable
// documents: ConnTable, with every end routed through Closing.
func TestMachineTable(t *testing.T) {
	t.Parallel()
	conn, served := statemachine.ConnTable(), wsmanager.MachineTable()
	states := conn.States()
	for _, from := range states {
		for _, to := range states {
			var want bool
			switch {
			case from.IsTerminal():
				want = false
			case from == statemachine.Closing:
				want = to.IsTerminal()
			case to == statemachine.Closing:
				want = true
			case to.IsTerminal():
				want = false
			default:
				want = conn.Allows(from, to)
			}
			if got := served.Allows(from, to); got != want {
				t.Errorf("%v → %v: allowed %v, want %v", from, to, got, want)
			}
		}
	}
}
