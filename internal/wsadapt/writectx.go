package wsadapt

import (
	"context"
	"time"
)

// WriteCtx is a connection's context-bounded write, for the adapters'
// direct callers (Write, WriteBatch): it calls write, the connection's
// WriteMessages, with msgs and ctx's deadline (zero: none). When ctx ends
// while the batch waits or is written, it calls abort, the connection's
// Abort (registered with context.AfterFunc for the call: this path alone
// pays for it), and returns ctx's error; the connection can then no
// longer be written to. A ctx already ended returns its error and calls
// neither.
func WriteCtx(ctx context.Context, msgs [][]byte, write func([][]byte, time.Time) error, abort func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	stop := context.AfterFunc(ctx, abort)
	err := write(msgs, deadline)
	if !stop() {
		// ctx ended and abort ran, or is running: whatever write said,
		// the connection can no longer be written to.
		return ctx.Err()
	}
	return err
}
