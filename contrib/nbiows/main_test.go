package nbiows_test

import (
	"testing"

	"github.com/lesismal/nbio/logging"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// nbio logs each engine's start and stop to standard output.
	logging.SetLevel(logging.LevelNone)
	goleak.VerifyTestMain(m)
}
