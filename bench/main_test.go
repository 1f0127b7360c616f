package bench

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The expirable LRU of the hand-composed auth stack starts a cleanup
	// goroutine and offers no way to stop it: a leak every user of that
	// stack inherits, ignored here so the check still guards our own code.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1"))
}
