package wsmanager_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

// asyncLog is fakeLog with pipelined appends: AppendAsync queues, and a
// goroutine of its own stores the queued messages in order once release
// is closed, failing them with fail if it is set.
type asyncLog struct {
	*fakeLog
	release chan struct{}
	fail    error
	wg      sync.WaitGroup
	mu      sync.Mutex
}

var _ wsmanager.AsyncLog = (*asyncLog)(nil)

func (l *asyncLog) AppendAsync(ctx context.Context, userID, threadID string, msg []byte, done func(wsmanager.Position, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.wg.Go(func() {
		<-l.release
		l.mu.Lock() // in order of acceptance: one store at a time
		defer l.mu.Unlock()
		if l.fail != nil {
			done(wsmanager.Position{}, l.fail)
			return
		}
		done(l.Append(ctx, userID, threadID, msg))
	})
	return nil
}

// TestAsyncLogSendDoesNotWait: with an AsyncLog, SendToUser returns once
// the Log has accepted the message, before it is stored, with the count of
// this node's connections it is addressed to; the connection gets it once
// stored.
func TestAsyncLogSendDoesNotWait(t *testing.T) {
	t.Parallel()
	l := &asyncLog{fakeLog: newFakeLog(), release: make(chan struct{})}
	h := newHarness(t, wsmanager.Options{Broker: l, History: wsmanager.HistoryOptions{Messages: 10}})
	t.Cleanup(l.wg.Wait)
	ctx := context.Background()
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	if n, err := h.f.SendToUser(ctx, "u", []byte("one")); n != 1 || err != nil {
		t.Fatalf("SendToUser = %d, %v; want 1, nil before the Log stored it", n, err)
	}
	if got := s.peer.WaitWritten(ctxTimeout(t), 1); got != 1 { // the reset frame alone
		t.Errorf("written %d before the Log stored the message, want 1 (the reset frame)", got)
	}
	close(l.release)
	if got := s.peer.WaitWritten(ctxTimeout(t), 2); got != 2 {
		t.Errorf("written %d once stored, want 2", got)
	}
}

// TestAsyncLogSendToUserWaitReportsFailure: SendToUserWait returns a failed
// append wrapping ErrBroker; SendToUser counts and logs it instead.
func TestAsyncLogSendToUserWaitReportsFailure(t *testing.T) {
	t.Parallel()
	l := &asyncLog{fakeLog: newFakeLog(), release: make(chan struct{}), fail: errors.New("stream full")}
	close(l.release)
	h := newHarness(t, wsmanager.Options{Broker: l, History: wsmanager.HistoryOptions{Messages: 10}})
	t.Cleanup(l.wg.Wait)
	ctx := context.Background()
	if _, err := h.f.SendToUserWait(ctx, "u", []byte("x")); !errors.Is(err, wsmanager.ErrBroker) {
		t.Errorf("SendToUserWait = %v, want ErrBroker", err)
	}
	if _, err := h.f.SendToUser(ctx, "u", []byte("y")); err != nil {
		t.Errorf("SendToUser = %v, want nil: it does not wait for the append", err)
	}
	l.wg.Wait()
	if got := h.f.Stats().BrokerErrors; got != 2 {
		t.Errorf("BrokerErrors %d, want 2", got)
	}
}

// TestSendCountMeansAddressed: SendToUser's count is, in every mode, the
// node's connections the message is addressed to; full ones are among
// them and reported with ErrQueueFull where the send queues them.
func TestSendCountMeansAddressed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{QueueSize: 1, OnFull: wsmanager.DropNewest})
	ctx := context.Background()
	var res []*wsmanager.Reservation
	for range 2 {
		r, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Release)
		res = append(res, r)
	}
	if err := res[0].Connection().Send(ctx, []byte("fills it")); err != nil {
		t.Fatal(err)
	}
	n, err := h.f.SendToUser(ctx, "u", []byte("x"))
	if n != 2 || !errors.Is(err, wsmanager.ErrQueueFull) {
		t.Errorf("SendToUser = %d, %v; want 2 addressed and ErrQueueFull for the full one", n, err)
	}
}
