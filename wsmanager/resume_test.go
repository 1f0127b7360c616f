package wsmanager_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestHistoryDropOldestKeepsReplay: a resuming connection's replay is
// queued beyond the queue's bounds and takes no room from live messages.
// When live messages fill the queue under DropOldest, making room for a new
// one discards one live message, not the whole replay: dropping a replayed
// message frees no room.
func TestHistoryDropOldestKeepsReplay(t *testing.T) {
	t.Parallel()
	const queue, missed = 2, 5
	h := newHarness(t, wsmanager.Options{
		History:   wsmanager.HistoryOptions{Messages: 100},
		QueueSize: queue,
		OnFull:    wsmanager.DropOldest,
	})
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	cl := firstConnection(t, h, uc)
	for i := range missed {
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "missed %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := h.f.ReserveResume(ctx, uc, cl.pos)
	if err != nil {
		t.Fatal(err)
	}
	// Live messages while the transport is not there yet: one more than the
	// queue holds.
	for i := range queue + 1 {
		if _, err := h.f.SendToUser(ctx, "u", fmt.Appendf(nil, "live %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	before := h.f.Stats().MessagesDropped
	peer := memconn.New(memconn.Options{})
	s := &served{peer: peer, c: res.Connection(), errc: make(chan error, 1)}
	go func() { s.errc <- res.Serve(peer, echo()) }()
	want := []string{"missed 0", "missed 1", "missed 2", "missed 3", "missed 4", "live 1", "live 2"}
	waitWritten(t, peer, len(want))
	cl.take(t, s.disconnect(t))
	if diff := cmp.Diff(want, cl.got); diff != "" {
		t.Errorf("resumed connection got (-want +got):\n%s", diff)
	}
	if got := h.f.Stats().MessagesDropped - before; got != 0 {
		t.Errorf("%d more messages dropped after the reservation was served", got)
	}
	if got := h.f.Stats().MessagesDropped; got != 1 {
		t.Errorf("MessagesDropped = %d, want 1 (live 0, to make room for live 2)", got)
	}
}

// TestHistoryMaxAgeAtResume: MaxAge drops messages older than it, also when
// nothing was sent since: a client resuming after the messages it missed
// have expired gets a reset, not messages older than MaxAge.
func TestHistoryMaxAgeAtResume(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, wsmanager.Options{
			History:     wsmanager.HistoryOptions{Messages: 100, MaxAge: time.Minute},
			IdleTimeout: time.Hour,
		})
		ctx := context.Background()
		uc := wsmanager.UserContext{UserID: "u"}
		cl := firstConnection(t, h, uc)
		if _, err := h.f.SendToUser(ctx, "u", []byte("old")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		var again client
		s := h.connect(t, uc, cl.pos)
		synctest.Wait()
		again.take(t, s.disconnect(t))
		if again.resets != 1 || len(again.got) != 0 {
			t.Errorf("resuming two MaxAges later: got %q and %d resets; want a reset", again.got, again.resets)
		}
	})
}

// TestHistoryDefaultThreadStaysInThread: ThreadID "" is a thread like any
// other (the one every connection has when EndpointOptions.Thread is nil).
// Its Manager.Send reaches that thread's connections only, live, and must
// be replayed to that thread's connections only: a resuming connection of
// another thread of the same user never gets it.
func TestHistoryDefaultThreadStaysInThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t, history(100))
	other := wsmanager.UserContext{UserID: "u", ThreadID: "side"}
	cl := firstConnection(t, h, other)
	sendToDefaultThreadAndUser(t, h)
	s := h.connect(t, other, cl.pos)
	waitWritten(t, s.peer, 1)
	cl.take(t, s.disconnect(t))
	if diff := cmp.Diff([]string{"to the user"}, cl.got); diff != "" {
		t.Errorf("thread %q resumed with (-want +got):\n%s", other.ThreadID, diff)
	}
}

// sendToDefaultThreadAndUser sends "to the default thread" with the user
// u's Manager of the thread "", and "to the user" with SendToUser.
func sendToDefaultThreadAndUser(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	m, err := h.f.Manager(wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(ctx, []byte("to the default thread")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.f.SendToUser(ctx, "u", []byte("to the user")); err != nil {
		t.Fatal(err)
	}
}

// TestLogDefaultThreadStaysInThread is the same rule with a Log: a Manager.Send
// on the thread "" reaches that thread's connections, not the user's other
// threads.
func TestLogDefaultThreadStaysInThread(t *testing.T) {
	t.Parallel()
	log := newFakeLog()
	t.Cleanup(log.wg.Wait)
	h := newHarness(t, wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: 100}})
	side := h.connect(t, wsmanager.UserContext{UserID: "u", ThreadID: "side"}, wsmanager.Position{})
	waitWritten(t, side.peer, 1) // the reset frame
	sendToDefaultThreadAndUser(t, h)
	waitWritten(t, side.peer, 2)
	var cl client
	cl.take(t, side.disconnect(t))
	if diff := cmp.Diff([]string{"to the user"}, cl.got); diff != "" {
		t.Errorf("thread %q got (-want +got):\n%s", "side", diff)
	}
}

// blockingLog is a fakeLog whose Replay waits, once started, until the
// test lets it go on: the connection is registered by then.
type blockingLog struct {
	*fakeLog
	started, proceed chan struct{}
}

func (l *blockingLog) Replay(ctx context.Context, userID string, after wsmanager.Position, fn func(wsmanager.Position, string, []byte) error) (wsmanager.Position, error) {
	if fn != nil {
		close(l.started)
		<-l.proceed
	}
	return l.fakeLog.Replay(ctx, userID, after, fn)
}

// TestResumeReplayBeforeBroadcast: a resuming client gets what it missed
// before anything live, Broadcast messages included, even one broadcast
// while its replay is being read.
func TestResumeReplayBeforeBroadcast(t *testing.T) {
	t.Parallel()
	log := &blockingLog{fakeLog: newFakeLog(), started: make(chan struct{}), proceed: make(chan struct{})}
	t.Cleanup(log.wg.Wait)
	h := newHarness(t, wsmanager.Options{Broker: log, History: wsmanager.HistoryOptions{Messages: 100}})
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	if _, err := h.f.SendToUser(ctx, "u", []byte("missed")); err != nil {
		t.Fatal(err)
	}
	after := wsmanager.Position{Epoch: log.epoch, Seq: 0}
	resc := make(chan *wsmanager.Reservation, 1)
	go func() {
		res, err := h.f.ReserveResume(ctx, uc, after)
		if err != nil {
			t.Error(err)
		}
		resc <- res
	}()
	<-log.started
	h.f.Broadcast(ctx, []byte("broadcast"), nil)
	close(log.proceed)
	res := <-resc
	if res == nil {
		return
	}
	peer := memconn.New(memconn.Options{})
	s := &served{peer: peer, c: res.Connection(), errc: make(chan error, 1)}
	go func() { s.errc <- res.Serve(peer, echo()) }()
	waitWritten(t, peer, 2)
	written := s.disconnect(t)
	var got []string
	for _, m := range written {
		got = append(got, string(m))
	}
	want := []string{string(wsmanager.PrefixFrame(nil, wsmanager.Position{Epoch: log.epoch, Seq: 1}, []byte("missed"))), "- broadcast"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resumed connection got (-want +got):\n%s", diff)
	}
}

// TestPrefixFrameClientSurvivesBroadcast follows the client PrefixFrame's
// godoc gives (split each message at its first space: the position, then
// the payload; a message without a space is a reset whose text is the
// position) on a connection that also gets a Broadcast, which Factory
// sends to every connection, history or not. Whatever it is sent, the
// client must keep a position it can resume from (the endpoint answers 400
// to a malformed one, so the client could never reconnect).
func TestPrefixFrameClientSurvivesBroadcast(t *testing.T) {
	t.Parallel()
	h := newHarness(t, history(10))
	ctx := context.Background()
	s := h.connect(t, wsmanager.UserContext{UserID: "u"}, wsmanager.Position{})
	if _, err := h.f.SendToUser(ctx, "u", []byte("to you")); err != nil {
		t.Fatal(err)
	}
	h.f.Broadcast(ctx, []byte("maintenance at noon"), nil)
	waitWritten(t, s.peer, 3)
	var position string
	var got []string
	for _, m := range s.disconnect(t) {
		// ws.onmessage from PrefixFrame's godoc.
		i := bytes.IndexByte(m, ' ')
		if i < 0 {
			position = string(m)
			continue
		}
		if p := string(m[:i]); p != "-" {
			position = p
		}
		got = append(got, string(m[i+1:]))
	}
	if diff := cmp.Diff([]string{"to you", "maintenance at noon"}, got); diff != "" {
		t.Errorf("the documented client handled (-want +got):\n%s", diff)
	}
	if _, err := wsmanager.ParsePosition(position); err != nil {
		t.Errorf("the documented client keeps position %q after a Broadcast: %v", position, err)
	}
}
