package redisbroker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/ssotkit/ssot/internal/testlog"
)

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv("CI") == "" {
		fmt.Fprintln(os.Stderr, "redisbroker: SKIPPING every test against a real Redis: redis-server is not on PATH (Debian: apt-get install redis-server; .ci/run installs it)")
	}
	goleak.VerifyTestMain(m)
}

// printfLogger is a go-redis logger writing to a buffer.
type printfLogger struct{ buf *testlog.Buffer }

func (l printfLogger) Printf(_ context.Context, format string, v ...any) {
	fmt.Fprintf(l.buf, format+"\n", v...)
}
