package wsmanager

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ssotkit/ssot/statemachine"
)

// gateLog is a minimal Log for the tests of a replay under way: Append
// delivers at once, and a Replay of a position waits for release, or
// panics with panicWith, as a slow or broken Log would.
type gateLog struct {
	mu        sync.Mutex
	seq       uint64
	deliver   func(userID, threadID string, pos Position, msg []byte)
	started   chan struct{}
	release   chan struct{}
	panicWith any
}

func newGateLog() *gateLog {
	return &gateLog{started: make(chan struct{}), release: make(chan struct{})}
}

func (l *gateLog) Publish(context.Context, string, []byte) error { return nil }
func (l *gateLog) Subscribe(func(string, []byte)) (func() error, error) {
	return func() error { return nil }, nil
}

func (l *gateLog) Append(_ context.Context, userID, threadID string, msg []byte) (Position, error) {
	l.mu.Lock()
	l.seq++
	pos := Position{Epoch: 1, Seq: l.seq}
	d := l.deliver
	l.mu.Unlock()
	d(userID, threadID, pos, msg)
	return pos, nil
}

func (l *gateLog) SubscribeLog(d func(string, string, Position, []byte)) (func() error, error) {
	l.mu.Lock()
	l.deliver = d
	l.mu.Unlock()
	return func() error { return nil }, nil
}

func (l *gateLog) Replay(_ context.Context, _ string, _ Position, fn func(Position, string, []byte) error) (Position, error) {
	l.mu.Lock()
	head := Position{Epoch: 1, Seq: l.seq}
	l.mu.Unlock()
	if fn == nil {
		return head, nil
	}
	if l.panicWith != nil {
		panic(l.panicWith)
	}
	close(l.started)
	<-l.release
	return head, nil
}

// TestHeldWithinQueueBounds: the live messages a connection is sent while
// its replay from a Log is under way are held within its queue's bounds,
// by its OnFull policy, and counted: the memory a slow replay can take is
// what the queue would take.
func TestHeldWithinQueueBounds(t *testing.T) {
	const queue, sent = 4, 1000
	for _, tc := range []struct {
		onFull    FullPolicy
		delivered []string // of the live messages, in order, after the replay
		closing   bool
	}{
		{DropNewest, []string{"0", "1", "2", "3"}, false},
		{DropOldest, []string{"996", "997", "998", "999"}, false},
		{CloseSlow, nil, true},
	} {
		t.Run(tc.onFull.String(), func(t *testing.T) {
			log := newGateLog()
			f, err := NewFactory(Options{Broker: log, History: HistoryOptions{Messages: 10}, QueueSize: queue, OnFull: tc.onFull})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close(context.Background())
			uc := UserContext{UserID: "u"}
			done := make(chan *Reservation, 1)
			go func() {
				r, err := f.ReserveResume(context.Background(), uc, Position{Epoch: 1})
				if err != nil {
					t.Error(err)
				}
				done <- r
			}()
			<-log.started
			for i := range sent {
				if _, err := f.SendToUser(context.Background(), "u", fmt.Appendf(nil, "%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			m, _ := f.Lookup(uc)
			c := m.Connections()[0]
			st := f.lockStream("u", false)
			held := len(st.holds[c].held)
			st.mu.Unlock()
			if held > queue {
				t.Errorf("held %d live messages during the replay, beyond QueueSize %d", held, queue)
			}
			close(log.release)
			r := <-done
			if r == nil {
				return
			}
			defer r.Release()
			c.mu.Lock()
			var got []string
			for i := range c.q.len() {
				_, msg, _ := bytes.Cut(c.q.buf[c.q.at(i)], []byte(" "))
				got = append(got, string(msg))
			}
			c.mu.Unlock()
			if tc.closing {
				if st := c.Machine().State(); st < statemachine.Closing {
					t.Errorf("state %v after the replay, want a slow close", st)
				}
			} else if fmt.Sprint(got) != fmt.Sprint(tc.delivered) { // the replay itself gave nothing
				t.Errorf("queued after the replay %q, want %q", got, tc.delivered)
			}
			if s := f.Stats(); s.MessagesQueued != uint64(len(got))+s.MessagesDropped+s.MessagesDiscarded {
				t.Errorf("queued %d, pending %d, dropped %d, discarded %d: some held message is not counted", s.MessagesQueued, len(got), s.MessagesDropped, s.MessagesDiscarded)
			}
		})
	}
}

// TestReplayPanicAbandonsTheConnection: a Log whose Replay panics leaves
// no half-registered connection behind and no replay that holds messages
// forever; the panic reaches the caller.
func TestReplayPanicAbandonsTheConnection(t *testing.T) {
	log := newGateLog()
	log.panicWith = "broken log"
	f, err := NewFactory(Options{Broker: log, History: HistoryOptions{Messages: 10}})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "broken log" {
				t.Errorf("recovered %v, want the Log's panic", r)
			}
		}()
		_, _ = f.ReserveResume(context.Background(), UserContext{UserID: "u"}, Position{Epoch: 1})
	}()
	if s := f.Stats(); s.ConnsActive != 0 {
		t.Errorf("%d connections active after the panic", s.ConnsActive)
	}
	if _, err := f.SendToUser(context.Background(), "u", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
