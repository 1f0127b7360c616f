package wsmanager_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/wsmanager"
)

// fakeLog is an in-memory wsmanager.Log shared by several factories, as
// JetStream is shared by several nodes: it numbers each user's messages,
// keeps them all, and hands every message to every subscriber in order, on
// a goroutine of each subscriber's, so deliveries lag behind appends as
// they do over a network.
type fakeLog struct {
	mu      sync.Mutex
	epoch   uint64
	streams map[string][]logEntry
	seq     uint64
	subs    map[int]chan logEvent
	next    int
	wg      sync.WaitGroup
}

type logEntry struct {
	pos    wsmanager.Position
	thread string
	msg    []byte
}

type logEvent struct {
	user string
	logEntry
}

func newFakeLog() *fakeLog {
	return &fakeLog{epoch: 7, streams: map[string][]logEntry{}, subs: map[int]chan logEvent{}}
}

func (l *fakeLog) Publish(context.Context, string, []byte) error { return nil }
func (l *fakeLog) Subscribe(func(string, []byte)) (func() error, error) {
	return func() error { return nil }, nil
}

func (l *fakeLog) Append(_ context.Context, userID, threadID string, msg []byte) (wsmanager.Position, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++ // one sequence across users, as a JetStream stream has
	e := logEntry{pos: wsmanager.Position{Epoch: l.epoch, Seq: l.seq}, thread: threadID, msg: msg}
	l.streams[userID] = append(l.streams[userID], e)
	for _, ch := range l.subs {
		ch <- logEvent{user: userID, logEntry: e}
	}
	return e.pos, nil
}

func (l *fakeLog) SubscribeLog(deliver func(userID, threadID string, pos wsmanager.Position, msg []byte)) (func() error, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.next
	l.next++
	ch := make(chan logEvent, 1<<16)
	l.subs[id] = ch
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for ev := range ch {
			deliver(ev.user, ev.thread, ev.pos, ev.msg)
		}
	}()
	return func() error {
		l.mu.Lock()
		delete(l.subs, id)
		l.mu.Unlock()
		close(ch)
		return nil
	}, nil
}

func (l *fakeLog) Replay(_ context.Context, userID string, after wsmanager.Position, fn func(wsmanager.Position, string, []byte) error) (wsmanager.Position, error) {
	l.mu.Lock()
	entries := append([]logEntry(nil), l.streams[userID]...)
	head := wsmanager.Position{Epoch: l.epoch, Seq: l.seq}
	l.mu.Unlock()
	if fn == nil {
		return head, nil
	}
	if after.Epoch != l.epoch || after.Seq > head.Seq {
		return head, wsmanager.ErrPositionLost
	}
	for _, e := range entries {
		if e.pos.Seq > after.Seq {
			if err := fn(e.pos, e.thread, e.msg); err != nil {
				return head, err
			}
		}
	}
	return head, nil
}

var _ wsmanager.Log = (*fakeLog)(nil)

// TestLogResumeOnAnotherNode: with a Log, a client resumes on any node,
// also after the node it was on closed mid-traffic, and gets every message
// exactly once, in order, while a sender keeps sending through a third
// node.
func TestLogResumeOnAnotherNode(t *testing.T) {
	t.Parallel()
	const total = 2000
	log := newFakeLog()
	// Registered first, so it runs last: after the factories closed, each
	// stopping its subscription.
	t.Cleanup(log.wg.Wait)
	opts := wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: total}, QueueSize: total}
	nodes := []*harness{newHarness(t, opts), newHarness(t, opts), newHarness(t, opts)}
	sender := nodes[2]
	uc := wsmanager.UserContext{UserID: "u"}
	cl := firstConnection(t, nodes[0], uc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if _, err := sender.f.SendToUser(context.Background(), "u", fmt.Appendf(nil, "%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	cl = reconnectUntilDone(t, cl, done, total, func(round int, after wsmanager.Position) *served {
		if round == 4 {
			// The first node goes away mid-traffic; its clients come back
			// on the second.
			if err := nodes[0].f.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if round >= 4 {
			return nodes[1].connect(t, uc, after)
		}
		return nodes[round%2].connect(t, uc, after)
	})
	for i, got := range cl.got {
		if got != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: a gap or a duplicate (%d messages)", i, got, len(cl.got))
		}
	}
	if len(cl.got) != total {
		t.Errorf("got %d messages, want %d", len(cl.got), total)
	}
}

// TestLogBrokerKey: with Options.BrokerKey, what reaches a Log without the
// key (unsigned, signed with another key, tampered with, moved from another
// user or thread, or a published envelope) is neither delivered nor
// replayed, and is counted each time a node meets it; genuine messages are
// both delivered and replayed.
func TestLogBrokerKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte("k"), wsmanager.MinBrokerKeyLen)
	log := newFakeLog()
	t.Cleanup(log.wg.Wait)
	opts := wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: 100}, BrokerKey: key}
	sender, receiver := newHarness(t, opts), newHarness(t, opts)
	uc := wsmanager.UserContext{UserID: "u", ThreadID: "t1"}
	start := firstConnection(t, receiver, uc)
	live := receiver.connect(t, uc, start.pos)

	keyless := newHarness(t, wsmanager.Options{Broker: newFakeBroker()})
	wrongKey := newHarness(t, wsmanager.Options{Broker: newFakeBroker(), BrokerKey: bytes.Repeat([]byte("x"), wsmanager.MinBrokerKeyLen)})
	tampered := sender.f.SealLog("u", "t1", []byte("forged"))
	tampered[len(tampered)-1] ^= 1
	forgeries := []struct {
		thread string
		env    []byte
	}{
		{"t1", keyless.f.SealLog("u", "t1", []byte("forged"))},  // no signature
		{"t1", wrongKey.f.SealLog("u", "t1", []byte("forged"))}, // another key
		{"t1", tampered},
		{"", sender.f.SealLogUser("someone-else", []byte("forged"))}, // another user's
		{"t1", sender.f.SealLog("u", "t2", []byte("forged"))},        // another thread's
	}
	ctx := context.Background()
	for _, f := range forgeries {
		if _, err := log.Append(ctx, "u", f.thread, f.env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Append(ctx, "u", "", sender.f.Seal("u", []byte("published"))); err != nil {
		t.Fatal(err)
	}
	if _, err := sender.f.SendToUser(ctx, "u", []byte("genuine")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, live.peer, 1)
	cl := start
	cl.take(t, live.disconnect(t))
	if diff := cmp.Diff([]string{"genuine"}, cl.got); diff != "" {
		t.Errorf("live delivery (-want +got):\n%s", diff)
	}
	// The genuine message came after the forgeries, from the same
	// subscription: every one of them has been met once.
	if st := receiver.f.Stats(); st.BrokerRejected != uint64(len(forgeries)) || st.BrokerMalformed != 1 {
		t.Errorf("after delivery: rejected %d, malformed %d; want %d, 1", st.BrokerRejected, st.BrokerMalformed, len(forgeries))
	}

	resumed := receiver.connect(t, uc, start.pos)
	waitWritten(t, resumed.peer, 1)
	again := start
	again.take(t, resumed.disconnect(t))
	if diff := cmp.Diff([]string{"genuine"}, again.got); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
	if st := receiver.f.Stats(); st.BrokerRejected != 2*uint64(len(forgeries)) || st.BrokerMalformed != 2 || st.MessagesReplayed != 1 {
		t.Errorf("after replay: rejected %d, malformed %d, replayed %d; want %d, 2, 1", st.BrokerRejected, st.BrokerMalformed, st.MessagesReplayed, 2*len(forgeries))
	}
}

// TestLogNewEpochReachesResumedConnections: when the Log's history starts
// over (a new epoch, its sequence numbers from 1 again), a connection that
// resumed in the old epoch gets the new messages: it skips only what its
// replay gave it, in its own epoch.
func TestLogNewEpochReachesResumedConnections(t *testing.T) {
	t.Parallel()
	log := newFakeLog()
	t.Cleanup(log.wg.Wait)
	h := newHarness(t, wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: 100}})
	uc := wsmanager.UserContext{UserID: "u"}
	cl := firstConnection(t, h, uc)
	ctx := context.Background()
	for i := range 5 {
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "old %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s := h.connect(t, uc, cl.pos) // replays the five, up to sequence 5
	waitWritten(t, s.peer, 5)
	log.mu.Lock()
	log.epoch, log.seq, log.streams = 8, 0, map[string][]logEntry{}
	log.mu.Unlock()
	if _, err := h.f.SendToUser(ctx, "u", []byte("new")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, s.peer, 6)
	cl.take(t, s.disconnect(t))
	if diff := cmp.Diff([]string{"old 0", "old 1", "old 2", "old 3", "old 4", "new"}, cl.got); diff != "" {
		t.Errorf("client got (-want +got):\n%s", diff)
	}
	if want := (wsmanager.Position{Epoch: 8, Seq: 1}); cl.pos != want {
		t.Errorf("position %v, want %v", cl.pos, want)
	}
}

// gatedLog is a fakeLog whose Replay of a position reads the stream, then
// waits for release before handing over what it read: a replay that takes
// its time, as one over a network does.
type gatedLog struct {
	*fakeLog
	started chan struct{}
	release chan struct{}
}

func (l *gatedLog) Replay(ctx context.Context, userID string, after wsmanager.Position, fn func(wsmanager.Position, string, []byte) error) (wsmanager.Position, error) {
	if fn == nil {
		return l.fakeLog.Replay(ctx, userID, after, nil)
	}
	var read []logEntry
	head, err := l.fakeLog.Replay(ctx, userID, after, func(pos wsmanager.Position, thread string, msg []byte) error {
		read = append(read, logEntry{pos, thread, msg})
		return nil
	})
	close(l.started)
	<-l.release
	for _, e := range read {
		if err := fn(e.pos, e.thread, e.msg); err != nil {
			return head, err
		}
	}
	return head, err
}

// TestLogReplayHoldsNoLock: while one client's replay from a Log is under
// way, the node keeps delivering, to that user's other connections and to
// every other user, and the messages sent to the resuming user meanwhile
// reach it after its replay, each once, in order.
func TestLogReplayHoldsNoLock(t *testing.T) {
	t.Parallel()
	log := &gatedLog{fakeLog: newFakeLog(), started: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(log.wg.Wait)
	h := newHarness(t, wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: 100}})
	ctx := context.Background()
	ua, ub := wsmanager.UserContext{UserID: "a"}, wsmanager.UserContext{UserID: "b"}
	cl := firstConnection(t, h, ua)
	for i := range 3 {
		if _, err := h.f.SendToUser(ctx, "a", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	other := h.connect(t, ub, wsmanager.Position{}) // its reset frame
	sibling := h.connect(t, ua, wsmanager.Position{})
	waitWritten(t, sibling.peer, 1)
	resumed := make(chan *served)
	go func() { resumed <- h.connect(t, ua, cl.pos) }()
	<-log.started
	// The replay has read "0" to "2" and waits: deliveries go on.
	for i := 3; i < 6; i++ {
		if _, err := h.f.SendToUser(ctx, "a", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.f.SendToUser(ctx, "b", []byte("for b")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, other.peer, 2)
	waitWritten(t, sibling.peer, 4)
	close(log.release)
	s := <-resumed
	if _, err := h.f.SendToUser(ctx, "a", []byte("6")); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, s.peer, 7)
	cl.take(t, s.disconnect(t))
	if diff := cmp.Diff([]string{"0", "1", "2", "3", "4", "5", "6"}, cl.got); diff != "" {
		t.Errorf("resumed client got (-want +got):\n%s", diff)
	}
	var sib client
	sib.take(t, sibling.disconnect(t))
	if diff := cmp.Diff([]string{"3", "4", "5", "6"}, sib.got); diff != "" {
		t.Errorf("sibling got (-want +got):\n%s", diff)
	}
	// Stats add up once nothing is pending: a writer counts what it wrote
	// when it parks.
	deadline := time.Now().Add(testTimeout)
	for st := h.f.Stats(); st.MessagesQueued != st.MessagesWritten+st.MessagesDropped+st.MessagesDiscarded; st = h.f.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("accounting: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}
