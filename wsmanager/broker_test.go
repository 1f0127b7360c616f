package wsmanager_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/wsmanager"
)

// fakeBroker is an in-memory broker that, like NATS core, delivers every
// publication to every subscriber, the publisher included.
type fakeBroker struct {
	mu     sync.Mutex
	subs   map[int]func(string, []byte)
	next   int
	fail   error
	unsubs int
}

func newFakeBroker() *fakeBroker { return &fakeBroker{subs: map[int]func(string, []byte){}} }

func (b *fakeBroker) Publish(_ context.Context, userID string, msg []byte) error {
	b.mu.Lock()
	if b.fail != nil {
		b.mu.Unlock()
		return b.fail
	}
	subs := make([]func(string, []byte), 0, len(b.subs))
	for _, s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, deliver := range subs {
		deliver(userID, bytes.Clone(msg))
	}
	return nil
}

func (b *fakeBroker) Subscribe(deliver func(string, []byte)) (func() error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = deliver
	return func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
		b.unsubs++
		return nil
	}, nil
}

func (b *fakeBroker) setFail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = err
}

func TestBrokerSendToUserExactlyOnce(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	nodeA := newHarness(t, wsmanager.Options{Broker: b})
	nodeB := newHarness(t, wsmanager.Options{Broker: b})
	ctx := context.Background()
	a1 := nodeA.serve(t, ctx, wsmanager.UserContext{UserID: "u", ThreadID: "1"}, echo())
	a2 := nodeA.serve(t, ctx, wsmanager.UserContext{UserID: "u", ThreadID: "2"}, echo())
	bu := nodeB.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	bv := nodeB.serve(t, ctx, wsmanager.UserContext{UserID: "v"}, echo())
	for _, s := range []*served{a1, a2, bu, bv} {
		s.ready(t)
	}

	n, err := nodeA.f.SendToUser(ctx, "u", []byte("to u"))
	if n != 2 || err != nil {
		t.Fatalf("SendToUser = %d, %v; want 2 local, nil", n, err)
	}
	if got := nodeA.f.Broadcast(ctx, []byte("broadcast"), nil); got != 2 {
		t.Errorf("Broadcast = %d, want 2: node-local", got)
	}
	wctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	for _, tc := range []struct {
		name string
		s    *served
		want []string
	}{
		{"node A thread 1", a1, []string{"to u", "broadcast"}},
		{"node A thread 2", a2, []string{"to u", "broadcast"}},
		{"node B", bu, []string{"to u"}},
		{"node B, other user", bv, nil},
	} {
		tc.s.peer.WaitWritten(wctx, len(tc.want))
		var got []string
		for _, m := range tc.s.peer.Written() {
			got = append(got, string(m))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", tc.name, diff)
		}
	}
	sa, sb := nodeA.f.Stats(), nodeB.f.Stats()
	if sa.BrokerPublished != 1 || sa.BrokerEchoes != 1 || sa.BrokerReceived != 0 {
		t.Errorf("node A published, echoes, received = %d, %d, %d; want 1, 1, 0", sa.BrokerPublished, sa.BrokerEchoes, sa.BrokerReceived)
	}
	if sb.BrokerReceived != 1 || sb.BrokerEchoes != 0 {
		t.Errorf("node B received, echoes = %d, %d; want 1, 0", sb.BrokerReceived, sb.BrokerEchoes)
	}
}

func TestBrokerPublishFailure(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	h := newHarness(t, wsmanager.Options{Broker: b})
	ctx := context.Background()
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	down := errors.New("nats: connection closed")
	b.setFail(down)

	n, err := h.f.SendToUser(ctx, "u", []byte("still local"))
	if n != 1 {
		t.Errorf("SendToUser reached %d local connections, want 1", n)
	}
	if !errors.Is(err, wsmanager.ErrBroker) || !errors.Is(err, down) {
		t.Errorf("SendToUser error = %v, want ErrBroker wrapping the cause", err)
	}
	wctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	s.peer.WaitWritten(wctx, 1)
	if diff := cmp.Diff([][]byte{[]byte("still local")}, s.peer.Written()); diff != "" {
		t.Errorf("local connection received (-want +got):\n%s", diff)
	}
	if got := h.f.Stats().BrokerErrors; got != 1 {
		t.Errorf("BrokerErrors = %d, want 1", got)
	}
}

func TestBrokerIgnoresForeignMessages(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	h := newHarness(t, wsmanager.Options{Broker: b})
	ctx := context.Background()
	s := h.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)
	for _, raw := range [][]byte{nil, []byte("plain text"), {2, 0}, make([]byte, 16)} {
		if err := b.Publish(ctx, "u", raw); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.f.Stats().BrokerMalformed; got != 4 {
		t.Errorf("BrokerMalformed = %d, want 4", got)
	}
	// A message from another node still arrives after them.
	other := newHarness(t, wsmanager.Options{Broker: newFakeBroker()})
	if err := b.Publish(ctx, "u", other.f.Seal("u", []byte("ok"))); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	s.peer.WaitWritten(wctx, 1)
	if diff := cmp.Diff([][]byte{[]byte("ok")}, s.peer.Written()); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

func TestBrokerUnsubscribeOnClose(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) != 0 || b.unsubs != 1 {
		t.Errorf("after Close: %d subscriptions, %d unsubscribes; want 0, 1", len(b.subs), b.unsubs)
	}
}

// TestBrokerKey checks that with Options.BrokerKey a node delivers only
// envelopes signed with the cluster's key for the user they arrive for:
// anyone else who can publish on the broker cannot reach a connection.
func TestBrokerKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte("k"), wsmanager.MinBrokerKeyLen)
	b := newFakeBroker()
	sender := newHarness(t, wsmanager.Options{Broker: b, BrokerKey: key})
	receiver := newHarness(t, wsmanager.Options{Broker: b, BrokerKey: key})
	ctx := context.Background()
	s := receiver.serve(t, ctx, wsmanager.UserContext{UserID: "u"}, echo())
	s.ready(t)

	wrongKey := newHarness(t, wsmanager.Options{Broker: newFakeBroker(), BrokerKey: bytes.Repeat([]byte("x"), wsmanager.MinBrokerKeyLen)})
	unsigned := newHarness(t, wsmanager.Options{Broker: newFakeBroker()})
	tampered := sender.f.Seal("u", []byte("forged"))
	tampered[len(tampered)-1] ^= 1
	forgeries := [][]byte{
		unsigned.f.Seal("u", []byte("forged")),          // no signature
		wrongKey.f.Seal("u", []byte("forged")),          // another key
		sender.f.Seal("someone-else", []byte("forged")), // signed for another user, replayed to u
		tampered,
	}
	for _, env := range forgeries {
		if err := b.Publish(ctx, "u", env); err != nil {
			t.Fatal(err)
		}
	}
	if got := receiver.f.Stats().BrokerRejected; got != uint64(len(forgeries)) {
		t.Errorf("BrokerRejected = %d, want %d", got, len(forgeries))
	}
	if n, err := sender.f.SendToUser(ctx, "u", []byte("genuine")); n != 0 || err != nil {
		t.Fatalf("SendToUser = %d, %v", n, err)
	}
	wctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	s.peer.WaitWritten(wctx, 1)
	if diff := cmp.Diff([][]byte{[]byte("genuine")}, s.peer.Written()); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	// A node without the key cannot check a signed envelope and refuses it
	// rather than deliver it unchecked.
	if _, _, ok, rejected := unsigned.f.Open("u", sender.f.Seal("u", []byte("x"))); ok || !rejected {
		t.Errorf("keyless node: ok %v rejected %v, want false true", ok, rejected)
	}
}

func TestBrokerKeyOptions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]wsmanager.Options{
		"short key":          {Broker: newFakeBroker(), BrokerKey: make([]byte, wsmanager.MinBrokerKeyLen-1)},
		"key without broker": {BrokerKey: make([]byte, wsmanager.MinBrokerKeyLen)},
	} {
		if _, err := wsmanager.NewFactory(opts); !errors.Is(err, wsmanager.ErrInvalidOptions) {
			t.Errorf("%s: NewFactory = %v, want ErrInvalidOptions", name, err)
		}
	}
}

// FuzzEnvelope feeds arbitrary broker messages to a keyed and a keyless
// node: nothing panics, what one node seals the other opens unchanged, and
// a keyed node opens nothing it did not seal for that user.
func FuzzEnvelope(f *testing.F) {
	f.Add("u", []byte("hi"), []byte{1, 2, 3})
	f.Add("", []byte{}, []byte{})
	f.Add("user", []byte("plain"), []byte{2, 0})
	key := bytes.Repeat([]byte("k"), wsmanager.MinBrokerKeyLen)
	keyed, err := wsmanager.NewFactory(wsmanager.Options{Broker: newFakeBroker(), BrokerKey: key, Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	plain, err := wsmanager.NewFactory(wsmanager.Options{Broker: newFakeBroker(), Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		_ = keyed.Close(context.Background())
		_ = plain.Close(context.Background())
	})
	f.Fuzz(func(t *testing.T, user string, msg, raw []byte) {
		for _, n := range []*wsmanager.Factory{keyed, plain} {
			_, got, ok, _ := n.Open(user, n.Seal(user, msg))
			if !ok || !bytes.Equal(got, msg) {
				t.Fatalf("Open(Seal(%q)) = %q, %v", msg, got, ok)
			}
		}
		if _, _, ok, _ := keyed.Open(user, raw); ok {
			t.Fatalf("keyed node opened %x, which it never sealed", raw)
		}
		if _, _, ok, _ := keyed.Open(user+"x", keyed.Seal(user, msg)); ok {
			t.Fatal("an envelope sealed for one user opened for another")
		}
		for _, n := range []*wsmanager.Factory{keyed, plain} {
			if got, ok := n.OpenLog(user, "t", n.SealLog(user, "t", msg)); !ok || !bytes.Equal(got, msg) {
				t.Fatalf("OpenLog(SealLog(%q)) = %q, %v", msg, got, ok)
			}
			// A Log's envelope and a Publish envelope are never taken for
			// each other.
			if _, _, ok, _ := n.Open(user, n.SealLog(user, "", msg)); ok {
				t.Fatal("a Log envelope opened as a published one")
			}
			if _, ok := n.OpenLog(user, "", n.Seal(user, msg)); ok {
				t.Fatal("a published envelope opened as a Log's")
			}
		}
		if _, ok := keyed.OpenLog(user, "t", keyed.SealLog(user, "u", msg)); ok {
			t.Fatal("an envelope sealed for one thread opened for another")
		}
		// The thread "" alone and the whole user are told apart, and a
		// signed envelope of one cannot pass for the other.
		for _, n := range []*wsmanager.Factory{keyed, plain} {
			if got, whole, ok := n.OpenLogScope(user, "", n.SealLogUser(user, msg)); !ok || !whole || !bytes.Equal(got, msg) {
				t.Fatalf("OpenLogScope(SealLogUser(%q)) = %q, whole %v, %v", msg, got, whole, ok)
			}
			if _, whole, ok := n.OpenLogScope(user, "", n.SealLog(user, "", msg)); !ok || whole {
				t.Fatalf("the thread \"\" opened as the whole user (%v, %v)", whole, ok)
			}
		}
		forged := keyed.SealLog(user, "", msg)
		forged[0] += 2 // the same bytes under the whole user's version
		if _, _, ok := keyed.OpenLogScope(user, "", forged); ok {
			t.Fatal("a thread's signed envelope passed for the whole user's")
		}
		if _, ok := keyed.OpenLog(user, "", raw); ok {
			t.Fatalf("keyed node opened %x as a Log envelope, which it never sealed", raw)
		}
		_, _, _, _ = plain.Open(user, raw)
	})
}

func TestSendToUserRefusesInvalidUserIDs(t *testing.T) {
	t.Parallel()
	b := newFakeBroker()
	var published atomic.Int64
	unsub, err := b.Subscribe(func(string, []byte) { published.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	h := newHarness(t, wsmanager.Options{Broker: b})
	for _, id := range []string{"", strings.Repeat("u", 257), "bad\x00id", "\xff"} {
		n, err := h.f.SendToUser(context.Background(), id, []byte("x"))
		if n != 0 || !errors.Is(err, wsmanager.ErrInvalidUser) {
			t.Errorf("SendToUser(%d-byte ID) = %d, %v; want ErrInvalidUser", len(id), n, err)
		}
	}
	if published.Load() != 0 || h.f.Stats().BrokerPublished != 0 {
		t.Error("an invalid user ID reached the broker")
	}
}
