package redisbroker_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/brokerkit"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// newLog returns a Log on its own connection to url, closed when the test
// ends.
func newLog(t *testing.T, url string, opts redisbroker.LogOptions) *redisbroker.Log {
	t.Helper()
	l, err := redisbroker.NewLog(newBroker(t, url), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// logged is one message a Log handed on.
type logged struct {
	user, thread string
	pos          wsmanager.Position
	msg          string
}

// logRecorder collects what a Log subscription delivers.
type logRecorder struct {
	mu  sync.Mutex
	got []logged
}

func (r *logRecorder) deliver(userID, threadID string, pos wsmanager.Position, msg []byte) {
	r.mu.Lock()
	r.got = append(r.got, logged{userID, threadID, pos, string(msg)})
	r.mu.Unlock()
}

func (r *logRecorder) of(userID string) []logged {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logged
	for _, m := range r.got {
		if m.user == userID {
			out = append(out, m)
		}
	}
	return out
}

func msgs(ms []logged) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.msg
	}
	return out
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// TestLogAppendAsyncKeepsOrderAndCallsDoneOnce: appends accepted for a
// user are stored in the order accepted, each done is called once, in
// that order, with increasing positions, and the thread comes back as it
// was given.
func TestLogAppendAsyncKeepsOrderAndCallsDoneOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	l := newLog(t, srv.URL(""), redisbroker.LogOptions{})
	const n = 900
	ctx := context.Background()
	var mu sync.Mutex
	done := map[string][]wsmanager.Position{}
	calls := map[string]int{}
	for i := range n {
		for _, u := range []string{"alice", "bob"} {
			key := u + "/" + strconv.Itoa(i)
			err := l.AppendAsync(ctx, u, "thread of "+u, []byte(strconv.Itoa(i)), func(pos wsmanager.Position, err error) {
				if err != nil {
					t.Errorf("append %s: %v", key, err)
				}
				mu.Lock()
				done[u] = append(done[u], pos)
				calls[key]++
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	brokertest.WaitFor(t, "every done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done["alice"]) == n && len(done["bob"]) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for key, c := range calls {
		if c != 1 {
			t.Errorf("done of %s called %d times", key, c)
		}
	}
	for _, u := range []string{"alice", "bob"} {
		if !slices.IsSortedFunc(done[u], func(a, b wsmanager.Position) int { return int(a.Seq>>1) - int(b.Seq>>1) }) || slices.ContainsFunc(done[u][1:], func(p wsmanager.Position) bool { return p.Epoch != done[u][0].Epoch }) {
			t.Fatalf("%s: positions out of order or of several epochs", u)
		}
		var got []string
		var threads []string
		head, err := l.Replay(ctx, u, wsmanager.Position{Epoch: done[u][0].Epoch}, func(pos wsmanager.Position, thread string, msg []byte) error {
			got = append(got, string(msg))
			threads = append(threads, thread)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if head != done[u][n-1] {
			t.Errorf("%s: head %v, last append at %v", u, head, done[u][n-1])
		}
		if !slices.Equal(got, numbers(n)) {
			t.Errorf("%s: the stream holds %d messages out of order", u, len(got))
		}
		if threads[0] != "thread of "+u {
			t.Errorf("thread %q", threads[0])
		}
	}
	if st := l.Stats(); st.Published != 2*n || st.PublishErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLogValidates(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	if _, err := redisbroker.NewLog(nil, redisbroker.LogOptions{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("NewLog(nil) = %v", err)
	}
	for _, opts := range []redisbroker.LogOptions{{MessagesPerUser: -1}, {MaxAge: -time.Second}, {MaxAge: time.Microsecond}} {
		if _, err := redisbroker.NewLog(newBroker(t, srv.URL("")), opts); !errors.Is(err, redisbroker.ErrInvalidOptions) {
			t.Errorf("NewLog with %+v = %v", opts, err)
		}
	}
	braces, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "a{b}"})
	if err != nil {
		t.Fatal(err)
	}
	defer braces.Close(context.Background())
	if _, err := redisbroker.NewLog(braces, redisbroker.LogOptions{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("NewLog with braces in the prefix = %v", err)
	}
	l := newLog(t, srv.URL(""), redisbroker.LogOptions{})
	ctx := context.Background()
	if err := l.AppendAsync(ctx, "", "", []byte("x"), func(wsmanager.Position, error) { t.Error("done called") }); !errors.Is(err, redisbroker.ErrInvalidUser) {
		t.Errorf("AppendAsync for no user = %v", err)
	}
	if _, err := l.Replay(ctx, "", wsmanager.Position{}, nil); !errors.Is(err, redisbroker.ErrInvalidUser) {
		t.Errorf("Replay for no user = %v", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "alice", "", []byte("x")); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := l.SubscribeLogUsers(func(string, string, wsmanager.Position, []byte) {}); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("SubscribeLogUsers after Close = %v", err)
	}
}

// TestLogReplay: Replay returns what follows a position, and
// ErrPositionLost, with the head, for a position of another epoch, ahead
// of the stream, or older than what it holds; a stream deleted starts a
// new epoch.
func TestLogReplay(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	l := newLog(t, srv.URL(""), redisbroker.LogOptions{MessagesPerUser: 10})
	ctx := context.Background()
	collect := func(after wsmanager.Position) ([]string, wsmanager.Position, error) {
		var got []string
		head, err := l.Replay(ctx, "alice", after, func(_ wsmanager.Position, _ string, msg []byte) error {
			got = append(got, string(msg))
			return nil
		})
		return got, head, err
	}
	_, empty, err := collect(wsmanager.Position{})
	if err == nil || empty.Epoch == 0 || empty.Seq != 0 {
		t.Fatalf("a new user's head is %v (%v), want an epoch and Seq 0", empty, err)
	}
	var positions []wsmanager.Position
	for i := range 3 {
		pos, err := l.Append(ctx, "alice", "", []byte(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, pos)
	}
	if positions[0].Epoch != empty.Epoch {
		t.Errorf("the first append started epoch %d, not the head's %d", positions[0].Epoch, empty.Epoch)
	}
	if got, head, err := collect(empty); err != nil || !slices.Equal(got, numbers(3)) || head != positions[2] {
		t.Errorf("from the empty head: %q, %v, %v", got, head, err)
	}
	if got, _, err := collect(positions[0]); err != nil || !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("after the first: %q, %v", got, err)
	}
	for name, after := range map[string]wsmanager.Position{
		"another epoch": {Epoch: empty.Epoch + 2, Seq: positions[0].Seq},
		"ahead":         {Epoch: empty.Epoch, Seq: positions[2].Seq + 1},
	} {
		if got, head, err := collect(after); !errors.Is(err, wsmanager.ErrPositionLost) || head != positions[2] || got != nil {
			t.Errorf("%s: %q, %v, %v; want ErrPositionLost and the head", name, got, head, err)
		}
	}

	// MAXLEN ~ trims whole nodes of the stream (100 entries by default):
	// past them, the oldest positions are lost.
	for i := 3; i < 300; i++ {
		if _, err := l.Append(ctx, "alice", "", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := collect(positions[0]); !errors.Is(err, wsmanager.ErrPositionLost) {
		t.Errorf("a trimmed position: %v, want ErrPositionLost", err)
	}

	// The stream deleted: its history is lost, and a new epoch starts.
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	stream := "{" + brokerkit.Topic("test.users.log", "alice") + "}.stream"
	if n, err := admin.Del(ctx, stream).Result(); err != nil || n != 1 {
		t.Fatalf("DEL %s = %d, %v", stream, n, err)
	}
	pos, err := l.Append(ctx, "alice", "", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if pos.Epoch == empty.Epoch {
		t.Error("a deleted stream kept its epoch")
	}
	if _, head, err := collect(positions[2]); !errors.Is(err, wsmanager.ErrPositionLost) || head != pos {
		t.Errorf("a position of the deleted stream: %v, %v", head, err)
	}
}

// TestLogDeliversLiveAfterStore: a message reaches a subscriber only once
// it is in the stream, with the position Append returned, and only to
// subscribers of its user.
func TestLogDeliversLiveAfterStore(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	writer, reader := newLog(t, srv.URL(""), redisbroker.LogOptions{}), newLog(t, srv.URL(""), redisbroker.LogOptions{})
	ctx := context.Background()
	var mu sync.Mutex
	var got []logged
	var notStored int
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	in, err := reader.SubscribeLogUsers(func(userID, threadID string, pos wsmanager.Position, msg []byte) {
		// The entry of the position, as Redis holds it now.
		id := strconv.FormatUint(pos.Seq>>20, 10) + "-" + strconv.FormatUint(pos.Seq&(1<<20-1), 10)
		stored, err := admin.XRange(ctx, "{"+brokerkit.Topic("test.users.log", userID)+"}.stream", id, id).Result()
		mu.Lock()
		defer mu.Unlock()
		if err != nil || len(stored) != 1 || stored[0].Values["m"] != string(msg) {
			notStored++
		}
		got = append(got, logged{userID, threadID, pos, string(msg)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	add(t, in, "alice", "a*")
	var want []logged
	for i := range 50 {
		for _, u := range []string{"alice", "bob", "a*"} {
			thread := ""
			if i%2 == 1 {
				thread = "t" + strconv.Itoa(i)
			}
			pos, err := writer.Append(ctx, u, thread, []byte(u+strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			if u != "bob" {
				want = append(want, logged{u, thread, pos, u + strconv.Itoa(i)})
			}
		}
	}
	brokertest.WaitFor(t, "every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("delivered %d messages, want %d: %v", len(got), len(want), got)
	}
	if notStored != 0 {
		t.Errorf("%d messages were delivered before they were stored", notStored)
	}
}

// TestLogCatchesUpAfterALostConnection: messages stored while a node's
// subscription connection is down are delivered once it is back, each
// once, in order, before newer ones.
func TestLogCatchesUpAfterALostConnection(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	writer, reader := newLog(t, srv.URL(""), redisbroker.LogOptions{}), newLog(t, srv.URL(""), redisbroker.LogOptions{})
	rec := &logRecorder{}
	in, err := reader.SubscribeLogUsers(rec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	add(t, in, "alice", "bob")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	const n = 600
	for i := range n {
		if i%100 == 50 {
			// End the subscriber's connection; the appends go on.
			if err := admin.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []string{"alice", "bob"} {
			if _, err := writer.Append(ctx, u, "", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	brokertest.WaitFor(t, "every message", func() bool { return len(rec.of("alice")) >= n && len(rec.of("bob")) >= n })
	for _, u := range []string{"alice", "bob"} {
		if got := msgs(rec.of(u)); !slices.Equal(got, numbers(n)) {
			t.Errorf("%s got %d messages, not each once in order", u, len(got))
		}
	}
	if st := reader.Stats(); st.Reconnects == 0 || st.Dropped != 0 {
		t.Errorf("reader stats %+v: want reconnects and nothing dropped", st)
	}
}

// TestLogResumesOnAnotherNodeAfterOneIsKilled runs three nodes over one
// Redis, each with its own Log and connections; the first node is killed
// mid-traffic and its clients resume on the others: every client gets
// every message exactly once, in order.
func TestLogResumesOnAnotherNodeAfterOneIsKilled(t *testing.T) {
	t.Parallel()
	const total = 300
	srv := redistest.Start(t)
	var c brokertest.LogCluster
	var first *redisbroker.Log
	for i := range c.Nodes {
		l := newLog(t, srv.URL(""), redisbroker.LogOptions{})
		if i == 0 {
			first = l
		}
		c.Nodes[i] = brokertest.NewFactory(t, l, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 1}, QueueSize: total})
	}
	c.Kill = func() {
		if err := first.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := c.Nodes[0].Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
	brokertest.ResumeAcrossNodes(t, c, total)
}

// TestLogSubscribeLogDeliversEveryUser: SubscribeLog, for callers that
// want every user's messages, delivers them with thread and position, and
// counts what the append script did not publish.
func TestLogSubscribeLogDeliversEveryUser(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	writer, reader := newLog(t, srv.URL(""), redisbroker.LogOptions{}), newLog(t, srv.URL(""), redisbroker.LogOptions{})
	rec := &logRecorder{}
	unsub, err := reader.SubscribeLog(rec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Publish(ctx, brokerkit.Topic("test.users.log", "alice"), "not an entry").Err(); err != nil {
		t.Fatal(err)
	}
	var want []logged
	for _, u := range []string{"alice", "bob"} {
		pos, err := writer.Append(ctx, u, "t-"+u, []byte("to "+u))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, logged{u, "t-" + u, pos, "to " + u})
	}
	brokertest.WaitFor(t, "both messages", func() bool { return len(rec.of("alice"))+len(rec.of("bob")) == 2 })
	if got := append(rec.of("alice"), rec.of("bob")...); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if st := reader.Stats(); st.Malformed != 1 {
		t.Errorf("Malformed = %d, want 1", st.Malformed)
	}
}

// TestLogCatchesUpManyUsers: a connection holding more users than one
// pipeline of the catch-up reads is restored, and every user gets what
// its stream got meanwhile, once, in order.
func TestLogCatchesUpManyUsers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	writer, reader := newLog(t, srv.URL(""), redisbroker.LogOptions{}), newLog(t, srv.URL(""), redisbroker.LogOptions{})
	rec := &logRecorder{}
	in, err := reader.SubscribeLogUsers(rec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var users []string
	for u := range 300 {
		users = append(users, "user-"+strconv.Itoa(u))
	}
	add(t, in, users...)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	appendAll := func(i int) {
		for _, u := range users {
			if _, err := writer.Append(ctx, u, "", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendAll(0)
	// Kill the subscriber's connection and append while it is down (the
	// reader waits ReconnectWait before it subscribes again).
	if err := admin.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	appendAll(1)
	appendAll(2)
	brokertest.WaitFor(t, "every message", func() bool {
		for _, u := range users {
			if len(rec.of(u)) < 3 {
				return false
			}
		}
		return true
	})
	time.Sleep(50 * time.Millisecond) // a duplicate would land by now
	for _, u := range users {
		if got := msgs(rec.of(u)); !slices.Equal(got, numbers(3)) {
			t.Fatalf("%s got %q", u, got)
		}
	}
	if st := reader.Stats(); st.Reconnects != 1 {
		t.Errorf("reader stats %+v: want one reconnect", st)
	}
}
