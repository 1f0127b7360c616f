package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// runMainEnv makes the test binary run main instead of the tests, so a test
// can start the real command in a child process and signal it.
const runMainEnv = "CHAT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main() // exits 1 itself on error
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
