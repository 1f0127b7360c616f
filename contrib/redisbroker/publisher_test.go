package redisbroker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

// observe subscribes a plain client, straight to the Redis at addr, to
// every channel under the prefix "test.users", and returns a function
// listing the payloads received so far, in order.
func observe(t *testing.T, addr, password string) func() []string {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	t.Cleanup(func() { client.Close() })
	var (
		mu  sync.Mutex
		got []string
	)
	receive(t, client.PSubscribe(context.Background(), "test.users.*"), func(m *redis.Message) {
		mu.Lock()
		got = append(got, m.Payload)
		mu.Unlock()
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// rig is a real redis-server (started with args), a proxy in front of it,
// a broker with the prefix "test.users" connected through the proxy with
// no read or write timeout, so that only the test decides when a held
// pipeline ends, and an observer of what Redis passes on, straight from
// the server.
type rig struct {
	srv   *redistest.Server
	proxy *proxy
	b     *redisbroker.Broker
	log   *testlog.Buffer // the broker's
	got   func() []string // the observer's
}

func newRig(t *testing.T, password string, opts redisbroker.Options, args ...string) *rig {
	t.Helper()
	r := &rig{srv: redistest.Start(t, args...)}
	r.proxy = startProxy(t, r.srv.Addr())
	r.got = observe(t, r.srv.Addr(), password)
	logger, log := testlog.New()
	r.log = log
	opts.Prefix, opts.Logger = "test.users", logger
	userinfo := ""
	if password != "" {
		userinfo = "default:" + password + "@"
	}
	b, err := redisbroker.Connect(r.proxy.URL(userinfo), opts, func(o *redis.Options) { o.ReadTimeout, o.WriteTimeout = -1, -1 })
	if err != nil {
		t.Fatal(err)
	}
	r.b = b
	t.Cleanup(func() {
		r.proxy.release()
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// endsOnWait is a context that ends the moment Publish waits on it, so a
// test sees what Publish does when its context ends during a wait, without
// a timer.
type endsOnWait struct {
	context.Context
	cancel context.CancelFunc
}

func (c endsOnWait) Done() <-chan struct{} {
	c.cancel()
	return c.Context.Done()
}

func publish(t *testing.T, b *redisbroker.Broker, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := b.Publish(context.Background(), "alice", []byte(m)); err != nil {
			t.Fatalf("Publish(%s) = %v", m, err)
		}
	}
}

func wantReceived(t *testing.T, got func() []string, want ...string) {
	t.Helper()
	brokertest.WaitFor(t, fmt.Sprintf("Redis to pass on %d messages", len(want)), func() bool { return len(got()) >= len(want) })
	if !slices.Equal(got(), want) {
		t.Errorf("Redis passed on %q, want %q", got(), want)
	}
}

func wantStats(t *testing.T, b *redisbroker.Broker, published, errs uint64) {
	t.Helper()
	brokertest.WaitFor(t, fmt.Sprintf("%d published and %d errors", published, errs), func() bool {
		st := b.Stats()
		return st.Published == published && st.PublishErrors == errs
	})
}

// TestPublishWaitsForRoomInTheQueue: while PublishQueue messages wait for
// Redis, Publish waits for room, and returns ErrQueueFull, counted, if its
// context ends first; the messages it accepted all arrive, in order.
func TestPublishWaitsForRoomInTheQueue(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", redisbroker.Options{PublishQueue: 2})
	p, b := r.proxy, r.b

	p.hold(requests)
	publish(t, b, "1", "2")
	ctx, cancel := context.WithCancel(context.Background())
	err := b.Publish(endsOnWait{ctx, cancel}, "alice", []byte("refused"))
	if !errors.Is(err, redisbroker.ErrQueueFull) || !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with the queue full = %v, want ErrQueueFull wrapping context.Canceled", err)
	}
	third := make(chan error, 1)
	go func() { third <- b.Publish(context.Background(), "alice", []byte("3")) }()
	p.release()
	if err := <-third; err != nil {
		t.Errorf("Publish waiting for room = %v", err)
	}
	wantReceived(t, r.got, "1", "2", "3")
	wantStats(t, b, 3, 1)
}

// heldABC returns a rig whose broker has accepted the messages a, b and c
// while the proxy holds them back from Redis.
func heldABC(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, "", redisbroker.Options{})
	r.proxy.hold(requests)
	publish(t, r.b, "a", "b", "c")
	return r
}

// TestCloseSendsWhatIsQueued: Close waits until the messages Publish
// accepted are sent.
func TestCloseSendsWhatIsQueued(t *testing.T) {
	t.Parallel()
	r := heldABC(t)
	b := r.b
	closed := make(chan error, 1)
	go func() { closed <- b.Close(context.Background()) }()
	r.proxy.release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Published != 3 || st.PublishErrors != 0 {
		t.Errorf("after Close: %+v, want 3 published and no error", st)
	}
	wantReceived(t, r.got, "a", "b", "c")
	if err := b.Publish(context.Background(), "alice", []byte("late")); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("Publish after Close = %v", err)
	}
}

// TestCloseGivesUpWhenItsContextEnds: the messages Close could not send
// before its context ended are never sent, and are counted and logged.
func TestCloseGivesUpWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	r := heldABC(t)
	b := r.b
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with an ended context while messages wait = %v", err)
	}
	r.proxy.cut() // ends the pipeline under way, discarding what it sent
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Published != 0 || st.PublishErrors != 3 {
		t.Errorf("after Close: %+v, want 3 publish errors", st)
	}
	if !strings.Contains(r.log.String(), "did not confirm published messages") {
		t.Errorf("the loss was not logged: %s", r.log)
	}
	publish(t, directBroker(t, r.srv.Addr()), "end")
	wantReceived(t, r.got, "end")
}

// directBroker returns a second broker, straight to Redis, whose message
// marks the end of what the observer can receive: Redis keeps a
// connection's order, and the observer has one.
func directBroker(t *testing.T, addr string) *redisbroker.Broker {
	t.Helper()
	b, err := redisbroker.Connect("redis://"+addr, redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// TestFailedPipelineIsCountedAndNeverResent: a message whose PUBLISH
// reached Redis but whose reply was lost is counted as an error, logged
// once without the password, and never sent again; Publish then returns
// ErrDisconnected until Redis confirms a message, which reconnects the
// broker without any subscription.
func TestFailedPipelineIsCountedAndNeverResent(t *testing.T) {
	t.Parallel()
	const secret = "pipe-s3cret"
	r := newRig(t, secret, redisbroker.Options{}, "--requirepass", secret)
	p, b, got, log := r.proxy, r.b, r.got, r.log

	publish(t, b, "a")
	wantStats(t, b, 1, 0)

	p.hold(replies)
	publish(t, b, "b") // accepted: the broker is connected
	wantReceived(t, got, "a", "b")
	p.cut() // the reply to b's PUBLISH never arrives
	brokertest.WaitFor(t, "the failure to be counted", func() bool { return b.Stats().PublishErrors == 1 && !b.Connected() })

	err := b.Publish(context.Background(), "alice", []byte("c"))
	if !errors.Is(err, redisbroker.ErrDisconnected) {
		t.Errorf("Publish while Redis cannot be reached = %v, want ErrDisconnected", err)
	} else if strings.Contains(err.Error(), secret) {
		t.Errorf("Publish's error holds the password: %v", err)
	}
	p.restore()
	if err := b.Publish(context.Background(), "alice", []byte("d")); err != nil {
		t.Fatalf("Publish once Redis is back = %v", err)
	}
	if st := b.Stats(); st.Published != 2 || st.PublishErrors != 2 || !st.Connected {
		t.Errorf("stats %+v, want 2 published, 2 errors, connected", st)
	}
	wantReceived(t, got, "a", "b", "d")

	logged := log.String()
	if n := strings.Count(logged, "did not confirm published messages"); n != 1 || !strings.Contains(logged, "lost=1") {
		t.Errorf("the loss was logged %d times, want once with lost=1: %s", n, logged)
	}
	if !strings.Contains(logged, "confirms published messages again") {
		t.Errorf("the recovery was not logged: %s", logged)
	}
	if strings.Contains(logged, secret) {
		t.Errorf("the log holds the password: %s", logged)
	}
}

// TestConcurrentPublishersKeepTheirOrder: goroutines publishing at once,
// through a queue small enough that they wait for room, each see their
// messages arrive exactly once and in their order.
func TestConcurrentPublishersKeepTheirOrder(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	got := observe(t, srv.Addr(), "")
	b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet(), PublishQueue: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())

	const publishers, each = 4, 500
	var wg sync.WaitGroup
	for g := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := b.Publish(context.Background(), "alice", fmt.Appendf(nil, "%d-%d", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	brokertest.WaitFor(t, "every message", func() bool { return len(got()) >= publishers*each })
	next := make([]int, publishers)
	for _, m := range got() {
		var g, i int
		if _, err := fmt.Sscanf(m, "%d-%d", &g, &i); err != nil || g >= publishers || i != next[g] {
			t.Fatalf("received %s after %v: a duplicate, a gap or a reorder", m, next)
		}
		next[g]++
	}
	wantStats(t, b, publishers*each, 0)
}
