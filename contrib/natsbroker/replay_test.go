package natsbroker_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

// stored is a message as Replay hands it back.
type stored struct {
	Pos    wsmanager.Position
	Thread string
	Msg    string
}

// replay collects what l.Replay hands back for userID after after.
func replay(t *testing.T, l *natsbroker.Log, userID string, after wsmanager.Position) ([]stored, wsmanager.Position, error) {
	t.Helper()
	var got []stored
	head, err := l.Replay(context.Background(), userID, after, func(pos wsmanager.Position, thread string, msg []byte) error {
		got = append(got, stored{pos, thread, string(msg)})
		return nil
	})
	return got, head, err
}

// appendAll appends each message to userID's stream, for thread, and
// returns their positions.
func appendAll(t *testing.T, l *natsbroker.Log, userID, thread string, msgs ...string) []wsmanager.Position {
	t.Helper()
	var out []wsmanager.Position
	for _, m := range msgs {
		pos, err := l.Append(context.Background(), userID, thread, []byte(m))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pos)
	}
	return out
}

// TestLogReplay: positions share the stream's epoch and one sequence for
// every user; Replay hands back one user's messages after a position, with
// their threads unchanged, and the stream's head.
func TestLogReplay(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	a := appendAll(t, l, "u", "", "a")[0]
	appendAll(t, l, "v", "", "for another user")
	b := appendAll(t, l, "u", " a thread, with spaces ", "b")[0]
	c := appendAll(t, l, "u", "", "c")[0]
	if a.Epoch == 0 || b.Epoch != a.Epoch || c.Epoch != a.Epoch || b.Seq != a.Seq+2 || c.Seq != b.Seq+1 {
		t.Fatalf("positions %v %v %v: want one epoch and one sequence across users", a, b, c)
	}
	for _, tc := range []struct {
		name  string
		user  string
		after wsmanager.Position
		want  []stored
	}{
		{"after the first", "u", a, []stored{{b, " a thread, with spaces ", "b"}, {c, "", "c"}}},
		{"from the start of the epoch", "u", wsmanager.Position{Epoch: a.Epoch}, []stored{{a, "", "a"}, {b, " a thread, with spaces ", "b"}, {c, "", "c"}}},
		{"at the head", "u", c, nil},
		{"a user with nothing", "nobody", a, nil},
	} {
		got, head, err := replay(t, l, tc.user, tc.after)
		if err != nil || head != c {
			t.Errorf("%s: head %v, %v; want %v, nil", tc.name, head, err, c)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: replayed (-want +got):\n%s", tc.name, diff)
		}
	}
	if head, err := l.Replay(context.Background(), "u", wsmanager.Position{}, nil); err != nil || head != c {
		t.Errorf("head alone: %v, %v; want %v", head, err, c)
	}
	for name, after := range map[string]wsmanager.Position{
		"another epoch": {Epoch: a.Epoch + 1, Seq: a.Seq},
		"ahead":         {Epoch: a.Epoch, Seq: c.Seq + 1},
		"none":          {},
	} {
		got, head, err := replay(t, l, "u", after)
		if !errors.Is(err, wsmanager.ErrPositionLost) || head != c || len(got) != 0 {
			t.Errorf("%s: %v, head %v, %d messages; want ErrPositionLost, %v and none", name, err, head, len(got), c)
		}
	}
}

// TestLogLimitsEvict: past MessagesPerUser a user's oldest messages go,
// past MaxBytes the stream's oldest; a position whose next messages went
// gets ErrPositionLost, one whose next messages are all held replays them.
func TestLogLimitsEvict(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	t.Run("per user", func(t *testing.T) {
		t.Parallel()
		l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "per.user"}, MessagesPerUser: 3})
		p := appendAll(t, l, "u", "", "0", "1", "2", "3", "4")
		if _, _, err := replay(t, l, "u", p[0]); !errors.Is(err, wsmanager.ErrPositionLost) {
			t.Errorf("after the first of five, with three kept: %v, want ErrPositionLost", err)
		}
		got, _, err := replay(t, l, "u", p[1])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]stored{{p[2], "", "2"}, {p[3], "", "3"}, {p[4], "", "4"}}, got); diff != "" {
			t.Errorf("after the second (-want +got):\n%s", diff)
		}
	})
	t.Run("stream bytes", func(t *testing.T) {
		t.Parallel()
		l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "stream.bytes"}, MaxBytes: 4096})
		p := appendAll(t, l, "u", "", "0", "1")
		filler := strings.Repeat("x", 200)
		for range 40 {
			appendAll(t, l, "someone-else", "", filler)
		}
		if _, _, err := replay(t, l, "u", p[0]); !errors.Is(err, wsmanager.ErrPositionLost) {
			t.Errorf("after messages the stream evicted: %v, want ErrPositionLost", err)
		}
		q := appendAll(t, l, "u", "", "2", "3")
		got, _, err := replay(t, l, "u", q[0])
		if err != nil || len(got) != 1 || got[0].Msg != "3" {
			t.Errorf("after a message still held: %v, %v; want the next one", got, err)
		}
	})
}

func TestLogAppendErrors(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{})
	ctx := context.Background()
	long := strings.Repeat("u", natsbroker.MaxUserIDLen+1)
	for name, ids := range map[string][2]string{"empty user": {"", ""}, "long user": {long, ""}, "long thread": {"u", long}} {
		if _, err := l.Append(ctx, ids[0], ids[1], []byte("x")); !errors.Is(err, natsbroker.ErrInvalidUser) {
			t.Errorf("%s: %v, want ErrInvalidUser", name, err)
		}
	}
	if _, _, err := replay(t, l, "", wsmanager.Position{}); !errors.Is(err, natsbroker.ErrInvalidUser) {
		t.Errorf("Replay of an empty user: %v", err)
	}
	if st := l.Stats(); st.PublishErrors != 3 || st.Published != 0 {
		t.Errorf("stats %+v", st)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "u", "", []byte("x")); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, _, err := replay(t, l, "u", wsmanager.Position{}); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("Replay after Close: %v", err)
	}
	if _, err := l.SubscribeLog(func(string, string, wsmanager.Position, []byte) {}); !errors.Is(err, natsbroker.ErrClosed) {
		t.Errorf("SubscribeLog after Close: %v", err)
	}
}

func TestLogOptionsAreValidated(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]natsbroker.LogOptions{
		"stream name with a dot":  {Stream: "a.b"},
		"stream name with space":  {Stream: "a b"},
		"stream name with slash":  {Stream: "a/b"},
		"negative messages":       {MessagesPerUser: -1},
		"negative bytes":          {MaxBytes: -1},
		"negative age":            {MaxAge: -1},
		"too many replicas":       {Replicas: 6},
		"wildcard prefix":         {Options: natsbroker.Options{Prefix: "a.*"}},
		"negative pending limits": {Options: natsbroker.Options{PendingMessages: -1}},
	} {
		if _, err := natsbroker.ConnectLog("nats://127.0.0.1:1", opts); !errors.Is(err, natsbroker.ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := natsbroker.NewLog(nil, natsbroker.LogOptions{}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
		t.Errorf("NewLog(nil): %v", err)
	}
}

// TestConnectLogWithoutJetStream: a server without JetStream is an error at
// once, which does not quote the URL's password, and leaves no connection
// open (goleak checks).
func TestConnectLogWithoutJetStream(t *testing.T) {
	t.Parallel()
	srv := startNATSWith(t, server.Options{Port: -1, Users: []*server.User{{Username: "chat", Password: "s3cret"}}})
	url := "nats://chat:s3cret@" + srv.Addr().String()
	l, err := natsbroker.ConnectLog(url, natsbroker.LogOptions{Options: natsbroker.Options{Logger: brokertest.Quiet()}})
	if err == nil {
		_ = l.Close(context.Background())
		t.Fatal("ConnectLog to a server without JetStream succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q quotes the password", err)
	}
}

// TestLogStreamName: the default stream name is the prefix made a valid
// stream name, and the stream exists once ConnectLog returns.
func TestLogStreamName(t *testing.T) {
	t.Parallel()
	srv := startJetStream(t, "", -1)
	l, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "chat/eu.users-1"}})
	if got := l.Stream(); got != "chat_eu_users-1" {
		t.Errorf("Stream() = %q", got)
	}
	named, _ := connectLog(t, srv.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "other.users"}, Stream: "HISTORY"})
	if got := named.Stream(); got != "HISTORY" {
		t.Errorf("Stream() = %q", got)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"chat_eu_users-1", "HISTORY"} {
		if _, err := js.Stream(context.Background(), name); err != nil {
			t.Errorf("stream %q: %v", name, err)
		}
	}
}
