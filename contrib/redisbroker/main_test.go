package redisbroker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv("CI") == "" {
		fmt.Fprintln(os.Stderr, "redisbroker: SKIPPING every test against a real Redis: redis-server is not on PATH (Debian: apt-get install redis-server redis-tools, whose redis-cli makes the Cluster tests' cluster; .ci/run installs both)")
	}
	// go-redis re-dials a server it failed to reach from a goroutine of
	// its pool that sleeps a second between tries and ends by itself once
	// the pool is closed; the tests that kill Redis leave some sleeping.
	// Every goroutine of this package's own is still checked.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

// printfLogger is a go-redis logger writing to a buffer.
type printfLogger struct{ buf *testlog.Buffer }

func (l printfLogger) Printf(_ context.Context, format string, v ...any) {
	fmt.Fprintf(l.buf, format+"\n", v...)
}

// receive waits for Redis to confirm ps's subscription, then passes each
// message ps receives to each, from a goroutine that ends, and is waited
// for, when the test does.
func receive(t *testing.T, ps *redis.PubSub, each func(*redis.Message)) {
	t.Helper()
	ctx := context.Background()
	if _, err := ps.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				return
			}
			each(m)
		}
	}()
	t.Cleanup(func() {
		ps.Close()
		<-done
	})
}
