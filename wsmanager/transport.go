package wsmanager

import (
	"context"
	"errors"
	"os"
	"time"
)

// transport is a served connection's transport as its writer uses it: a
// DeadlineConn as it is, or a Conn (and BatchConn) given a plain context
// per write. Every write is bounded by the deadline the writer computes
// once per batch; Abort is the one other way a write ends.
type transport interface {
	WriteMessages(msgs [][]byte, deadline time.Time) error
	Abort()
	CloseWithin(code int, reason string, deadline time.Time) error
}

// newTransport returns tr's transport: tr itself when it is a DeadlineConn.
func newTransport(tr Conn) transport {
	if d, ok := tr.(DeadlineConn); ok {
		return d
	}
	l := &contextTransport{conn: tr}
	l.batch, _ = tr.(BatchConn)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l
}

// contextTransport adapts a first-edition Conn to the writer: each write
// gets a plain context, made for it, with the batch's deadline, derived
// from one per connection that Abort cancels. It costs a context and a
// timer per batch, which a DeadlineConn does not.
type contextTransport struct {
	conn   Conn
	batch  BatchConn // conn, when it writes batches
	ctx    context.Context
	cancel context.CancelFunc
}

func (t *contextTransport) WriteMessages(msgs [][]byte, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(t.ctx, deadline)
	defer cancel()
	if t.batch != nil {
		return t.batch.WriteBatch(ctx, msgs)
	}
	for _, m := range msgs {
		if err := t.conn.Write(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (t *contextTransport) Abort() { t.cancel() }

// CloseWithin is Conn.Close, which bounds itself: a first-edition Conn
// takes no deadline for its close.
func (t *contextTransport) CloseWithin(code int, reason string, _ time.Time) error {
	t.cancel()
	return t.conn.Close(code, reason)
}

// timedOut reports whether a write that failed with err ran out of time:
// the transport says so, or its deadline has passed.
func timedOut(err error, deadline time.Time) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || !time.Now().Before(deadline)
}
