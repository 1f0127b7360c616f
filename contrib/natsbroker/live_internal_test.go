package natsbroker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/wsmanager"
)

// FuzzParseRepublished: whatever a publisher on the live subjects puts in
// a message's subject and headers, parseRepublished accepts it only as
// one user's message, whose stream subject and live subject are both that
// user's, with a sequence after the one it names as its user's previous.
func FuzzParseRepublished(f *testing.F) {
	const stream, prefix, live = "test_users", "test.users.log", "test.users.live"
	f.Add(subject(live, "alice"), stream, subject(prefix, "alice"), "7", "3")
	f.Add(subject(live, "alice"), stream, subject(prefix, "bob"), "7", "3")
	f.Add(subject(live, "a.*>"), "other", subject(prefix, "a.*>"), "7", "0")
	f.Add("test.users.live.!!", stream, "test.users.log.!!", "1", "0")
	f.Add(subject(live, "alice"), stream, subject(prefix, "alice"), "3", "7")
	f.Fuzz(func(t *testing.T, subj, hStream, hSubject, hSeq, hPrev string) {
		h := nats.Header{hdrStream: {hStream}, hdrSubject: {hSubject}, hdrSeq: {hSeq}, hdrPrevSeq: {hPrev}}
		r, ok := parseRepublished(stream, prefix, live, subj, h)
		if !ok {
			return
		}
		if subj != subject(live, r.userID) || hSubject != subject(prefix, r.userID) || hStream != stream {
			t.Errorf("accepted %q from %q of stream %q as %q's", subj, hSubject, hStream, r.userID)
		}
		if r.seq == 0 || r.prev >= r.seq {
			t.Errorf("accepted sequence %d after %d", r.seq, r.prev)
		}
	})
}

func TestParseRepublished(t *testing.T) {
	t.Parallel()
	const stream, prefix, live = "test_users", "test.users.log", "test.users.live"
	good := func() nats.Header {
		return nats.Header{hdrStream: {stream}, hdrSubject: {subject(prefix, "a.*>")}, hdrSeq: {"9"}, hdrPrevSeq: {"4"}}
	}
	if r, ok := parseRepublished(stream, prefix, live, subject(live, "a.*>"), good()); !ok || r != (republished{"a.*>", 9, 4}) {
		t.Errorf("JetStream's republishing: %+v, %v", r, ok)
	}
	for name, mutate := range map[string]func(h nats.Header){
		"another stream":          func(h nats.Header) { h.Set(hdrStream, "other") },
		"another user's subject":  func(h nats.Header) { h.Set(hdrSubject, subject(prefix, "bob")) },
		"no sequence":             func(h nats.Header) { h.Del(hdrSeq) },
		"no previous sequence":    func(h nats.Header) { h.Del(hdrPrevSeq) },
		"previous after sequence": func(h nats.Header) { h.Set(hdrPrevSeq, "10") },
		"sequence zero":           func(h nats.Header) { h.Set(hdrSeq, "0"); h.Set(hdrPrevSeq, "0") },
	} {
		h := good()
		mutate(h)
		if r, ok := parseRepublished(stream, prefix, live, subject(live, "a.*>"), h); ok {
			t.Errorf("%s: accepted as %+v", name, r)
		}
	}
}

// TestLogInterestFillsAGap: a republished message whose user's previous
// message was not delivered (here, as if the client had dropped it) is
// delivered after that one, read from the stream, each once.
func TestLogInterestFillsAGap(t *testing.T) {
	t.Parallel()
	opts := server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()}
	srv, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	l, err := ConnectLog(srv.ClientURL(), LogOptions{Options: Options{Prefix: "test.users", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	ctx := context.Background()
	var seqs []uint64
	for _, m := range []string{"0", "1", "2"} {
		pos, err := l.Append(ctx, "alice", "", []byte(m))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, pos.Seq)
	}
	got := make(chan string, 10)
	in, err := l.SubscribeLogUsers(func(_, _ string, pos wsmanager.Position, msg []byte) {
		got <- fmt.Sprintf("%s@%d", msg, pos.Seq)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.Add(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	li := in.(*logInterest)
	li.mu.Lock()
	li.last["alice"] = position{epoch: l.epoch.Load(), seq: seqs[1]} // "2" was missed
	li.mu.Unlock()
	pos, err := l.Append(ctx, "alice", "", []byte("3"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("2@%d", seqs[2]), fmt.Sprintf("3@%d", pos.Seq)}
	for i, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Errorf("delivery %d is %s, want %s", i, g, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d never came", i)
		}
	}
	select {
	case g := <-got:
		t.Errorf("delivered %s more", g)
	case <-time.After(50 * time.Millisecond):
	}
}
