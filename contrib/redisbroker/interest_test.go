package redisbroker_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// recorder collects what a subscription delivers.
type recorder struct {
	mu  sync.Mutex
	got map[string][]string
}

func newRecorder() *recorder { return &recorder{got: map[string][]string{}} }

func (r *recorder) deliver(userID string, msg []byte) {
	r.mu.Lock()
	r.got[userID] = append(r.got[userID], string(msg))
	r.mu.Unlock()
}

func (r *recorder) of(userID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got[userID])
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.got {
		n += len(m)
	}
	return n
}

func subscribeUsers(t *testing.T, b *redisbroker.Broker, deliver func(string, []byte)) wsmanager.Interest {
	t.Helper()
	in, err := b.SubscribeUsers(deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	return in
}

func add(t *testing.T, in wsmanager.Interest, users ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, u := range users {
		if err := in.Add(ctx, u); err != nil {
			t.Fatalf("Add(%q): %v", u, err)
		}
	}
}

// TestInterestDeliversOnlyItsUsers: once Add returns, a message published
// for the user arrives; messages of users not added, and of a user removed,
// do not; user IDs holding glob characters reach no one else.
func TestInterestDeliversOnlyItsUsers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	pub, sub := newBroker(t, srv.URL("")), newBroker(t, srv.URL(""))
	rec := newRecorder()
	in := subscribeUsers(t, sub, rec.deliver)
	glob := []string{"*", "a*", "?lice", "[a-z]lice", `\*`}
	add(t, in, append([]string{"alice"}, glob...)...)
	ctx := context.Background()
	for _, u := range []string{"alice", "bob", "alicia", "*", "a*"} {
		if err := pub.Publish(ctx, u, []byte("to "+u)); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.WaitFor(t, "the added users' messages", func() bool { return rec.total() == 3 })
	for u, want := range map[string][]string{"alice": {"to alice"}, "*": {"to *"}, "a*": {"to a*"}, "bob": nil, "alicia": nil, "?lice": nil, "[a-z]lice": nil, `\*`: nil} {
		if got := rec.of(u); !slices.Equal(got, want) {
			t.Errorf("%q got %q, want %q", u, got, want)
		}
	}

	if err := in.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	// A message published after the removal is confirmed may no longer
	// arrive: publish once Redis counts no subscriber left.
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	brokertest.WaitFor(t, "Redis to drop alice's subscription", func() bool {
		n, err := admin.PubSubNumSub(ctx, "test.users.YWxpY2U").Result()
		return err == nil && n["test.users.YWxpY2U"] == 0
	})
	if err := pub.Publish(ctx, "alice", []byte("after remove")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "*", []byte("marker")); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, "the marker", func() bool { return len(rec.of("*")) == 2 })
	if got := rec.of("alice"); len(got) != 1 {
		t.Errorf("alice got %q after Remove", got)
	}

	// Added again, the user gets its messages again.
	add(t, in, "alice")
	if err := pub.Publish(ctx, "alice", []byte("again")); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, "alice's message after a new Add", func() bool { return len(rec.of("alice")) == 2 })

	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Add(ctx, "carol"); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
}

func TestInterestAddValidatesAndHonoursItsContext(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newBroker(t, srv.URL(""))
	in := subscribeUsers(t, b, func(string, []byte) {})
	if err := in.Add(context.Background(), ""); !errors.Is(err, redisbroker.ErrInvalidUser) {
		t.Errorf("Add(\"\") = %v", err)
	}
	if _, err := b.SubscribeUsers(nil); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("SubscribeUsers(nil) = %v", err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := in.Add(ctx, "alice"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Add while Redis is down = %v, want the context's error", err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SubscribeUsers(func(string, []byte) {}); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("SubscribeUsers after Close = %v", err)
	}
}

// TestInterestResubscribesAfterRedisRestarts: every added user is
// subscribed again once Redis is back, without a new Add.
func TestInterestResubscribesAfterRedisRestarts(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	pub, sub := newBroker(t, srv.URL("")), newBroker(t, srv.URL(""))
	rec := newRecorder()
	in := subscribeUsers(t, sub, rec.deliver)
	add(t, in, "alice", "bob")
	srv.Stop()
	brokertest.WaitFor(t, "the subscriber to notice", func() bool { return !sub.Connected() })
	srv.Restart()
	brokertest.WaitFor(t, "the subscriptions to be restored", func() bool { return sub.Stats().Reconnects == 1 })
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	brokertest.WaitFor(t, "both channels to have their subscriber", func() bool {
		n, err := admin.PubSubNumSub(context.Background(), "test.users.YWxpY2U", "test.users.Ym9i").Result()
		return err == nil && n["test.users.YWxpY2U"] == 1 && n["test.users.Ym9i"] == 1
	})
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		if err := pub.Publish(ctx, u, []byte("back")); err != nil && !errors.Is(err, redisbroker.ErrDisconnected) {
			t.Fatal(err)
		}
	}
	// The publisher may need one failed try to learn that Redis is back.
	brokertest.WaitFor(t, "both messages", func() bool {
		for _, u := range []string{"alice", "bob"} {
			if len(rec.of(u)) == 0 {
				_ = pub.Publish(ctx, u, []byte("back"))
			}
		}
		return len(rec.of("alice")) > 0 && len(rec.of("bob")) > 0
	})
}

// TestEachNodeReceivesOnlyItsUsers is issue 22: three nodes hold a third
// of the users each, and each receives from Redis the messages of its
// users, not every message. Both the broker's own count and Redis's view
// of each node's subscription connection say so.
func TestEachNodeReceivesOnlyItsUsers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	const users, perUser = 30, 20
	var brokers [3]*redisbroker.Broker
	var nodes [3]*wsmanager.Factory
	for i := range brokers {
		b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet()},
			func(o *redis.Options) { o.ClientName = "node-" + strconv.Itoa(i) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		brokers[i] = b
		nodes[i] = brokertest.NewFactory(t, b, wsmanager.Options{QueueSize: perUser})
	}
	var conns []*memconn.Conn
	for u := range users {
		conns = append(conns, brokertest.Connect(t, nodes[u%3], "user-"+strconv.Itoa(u)))
	}
	ctx := context.Background()
	for m := range perUser {
		for u := range users {
			// From a node that holds the user and from one that does not.
			if _, err := nodes[u%2].SendToUser(ctx, "user-"+strconv.Itoa(u), []byte(strconv.Itoa(m))); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := make([]string, perUser)
	for m := range want {
		want[m] = strconv.Itoa(m)
	}
	for u, c := range conns {
		brokertest.WaitFor(t, "every message", func() bool { return c.Count() >= perUser })
		var got []string
		for _, m := range c.Written() {
			got = append(got, string(m))
		}
		if !slices.Equal(got, want) {
			t.Errorf("user-%d got %q", u, got)
		}
	}
	// Every message of a node's users comes back to it from Redis, its own
	// included (which it drops, having delivered them locally); no other.
	addressed := uint64(users / 3 * perUser)
	brokertest.WaitFor(t, "the echoes", func() bool {
		for _, b := range brokers {
			if b.Stats().Delivered < addressed {
				return false
			}
		}
		return true
	})
	time.Sleep(50 * time.Millisecond) // for a message of another user to show
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range brokers {
		if got := b.Stats().Delivered; got > addressed*11/10 || got != addressed {
			t.Errorf("node %d received %d messages; %d were addressed to its users", i, got, addressed)
		}
		// Redis's view: the node's subscription connection holds one
		// channel per user of the node, and no pattern.
		re := regexp.MustCompile(`name=node-` + strconv.Itoa(i) + ` .*\bsub=(\d+) psub=(\d+)`)
		var subs []string
		for _, line := range strings.Split(list, "\n") {
			if m := re.FindStringSubmatch(line); m != nil && m[1] != "0" {
				subs = append(subs, fmt.Sprintf("sub=%s psub=%s", m[1], m[2]))
			}
		}
		if want := []string{fmt.Sprintf("sub=%d psub=0", users/3)}; !slices.Equal(subs, want) {
			t.Errorf("node %d's subscription connections per Redis: %q, want %q", i, subs, want)
		}
	}
}

// TestCloseEndsInterestsLeftOpen: a broker, or a Log, closed before its
// Factory still stops the goroutines of its Interests (goleak checks), and
// the Interests' Close then does nothing.
func TestCloseEndsInterestsLeftOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	in, err := b.SubscribeUsers(func(string, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	add(t, in, "alice")
	lb, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := redisbroker.NewLog(lb, redisbroker.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logIn, err := l.SubscribeLogUsers(func(string, string, wsmanager.Position, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	add(t, logIn, "alice")
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("Interest.Close after the broker's = %v", err)
	}
	if err := logIn.Close(); err != nil {
		t.Errorf("the Log Interest's Close after the Log's = %v", err)
	}
}
