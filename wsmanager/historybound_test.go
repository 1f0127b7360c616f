package wsmanager_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// TestHistoryOnlyForHeldUsers: with history, sends to users this node
// holds no Manager for keep nothing: 20,000 sends to made-up users cost no
// memory, while a held user's messages are kept for resuming.
func TestHistoryOnlyForHeldUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 100}})
	ctx := context.Background()
	for i := range 20000 {
		if n, err := h.f.SendToUser(ctx, fmt.Sprint("made-up-", i), []byte("0123456789")); n != 0 || err != nil {
			t.Fatalf("SendToUser to a made-up user = %d, %v", n, err)
		}
	}
	if got := h.f.Stats().HistoryBytes; got != 0 {
		t.Errorf("HistoryBytes %d after sends to made-up users, want 0", got)
	}
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "alice"}, echo())
	s.ready(t)
	if _, err := h.f.SendToUser(ctx, "alice", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if got := h.f.Stats().HistoryBytes; got == 0 {
		t.Error("HistoryBytes 0 after a send to a held user: nothing kept for her to resume")
	}
}

// TestHistoryTotalBytesBound: the streams of all users together stay within
// TotalBytes, to within one message per stream, each stream dropping its
// own oldest first.
func TestHistoryTotalBytesBound(t *testing.T) {
	t.Parallel()
	const total, users, msg = 4096, 8, 100
	h := newHarness(t, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 1000, TotalBytes: total}})
	ctx := context.Background()
	for u := range users {
		res, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: fmt.Sprint("u", u)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(res.Release)
	}
	payload := make([]byte, msg)
	for range 50 {
		for u := range users {
			if _, err := h.f.SendToUser(ctx, fmt.Sprint("u", u), payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	framed := uint64(msg + 64) // a generous bound on PrefixFrame's prefix
	if got := h.f.Stats().HistoryBytes; got > total+users*framed {
		t.Errorf("HistoryBytes %d, want at most TotalBytes %d plus one message per stream", got, total)
	}
}

// TestHistoryReleasedWithTheLastManager: once the janitor removed a user's
// last Manager, the next sweep releases the user's stream and its bytes.
func TestHistoryReleasedWithTheLastManager(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 10}, IdleTimeout: time.Minute, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		ctx := context.Background()
		res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.SendToUser(ctx, "u", []byte("kept")); err != nil {
			t.Fatal(err)
		}
		res.Release()
		time.Sleep(30 * time.Second)
		if f.Stats().HistoryBytes == 0 {
			t.Error("stream released while the user's Manager is kept")
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := f.Stats().HistoryBytes; got != 0 {
			t.Errorf("HistoryBytes %d after the user's last Manager was removed, want 0", got)
		}
	})
}

// TestHistoryNotKeptAliveBySends: sends to a user whose last Manager is
// gone do not keep the user's stream: the janitor's next sweep releases
// it however often the user is still sent to.
func TestHistoryNotKeptAliveBySends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := wsmanager.NewFactory(wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 10}, IdleTimeout: time.Minute, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		ctx := context.Background()
		res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
		for range 30 { // ten seconds apart, past the Manager's removal and two sweeps
			if _, err := f.SendToUser(ctx, "u", []byte("again")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second)
		}
		synctest.Wait()
		if got := f.Stats().HistoryBytes; got != 0 {
			t.Errorf("HistoryBytes %d: sends kept the stream of a user this node no longer holds", got)
		}
	})
}
