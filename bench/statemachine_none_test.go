//go:build !with_statemachine

package bench

import "testing"

// benchStateMachineOurs is empty until the statemachine package exists.
func benchStateMachineOurs(*testing.B) {}
