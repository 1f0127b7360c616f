package redisbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
)

func TestOptionsAreValidated(t *testing.T) {
	t.Parallel()
	for _, opts := range []redisbroker.Options{
		{Prefix: "a.*"}, {Prefix: "a?"}, {Prefix: "a[b]"}, {Prefix: `a\b`}, {Prefix: "a\nb"},
		{PendingMessages: -1}, {PendingBytes: -1}, {ReconnectWait: -1}, {PublishQueue: -1}, {PublishQueueBytes: -1},
	} {
		if _, err := redisbroker.Connect("redis://127.0.0.1:1", opts); !errors.Is(err, redisbroker.ErrInvalidOptions) {
			t.Errorf("Connect with %+v = %v, want ErrInvalidOptions", opts, err)
		}
	}
	if _, err := redisbroker.New(nil, redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v", err)
	}
	// A retried PUBLISH can reach Redis twice: a client that retries is
	// refused, however it is configured.
	retrying := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer retrying.Close()
	if _, err := redisbroker.New(retrying, redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("New with a client that retries = %v", err)
	}
	if _, err := redisbroker.Connect("redis://127.0.0.1:1?max_retries=2", redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("Connect with max_retries=2 = %v", err)
	}
	if _, err := redisbroker.Connect("redis://127.0.0.1:1", redisbroker.Options{}, func(o *redis.Options) { o.MaxRetries = 3 }); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("Connect configured to retry = %v", err)
	}
}

func TestConnectFailsFastWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Stop()
	_, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{Logger: brokertest.Quiet()})
	if !errors.Is(err, redisbroker.ErrDisconnected) {
		t.Errorf("Connect to a stopped Redis = %v, want ErrDisconnected", err)
	}
}

func TestPublishValidatesAndCounts(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer client.Close()
	b, err := redisbroker.New(client, redisbroker.Options{Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, user := range []string{"", strings.Repeat("u", redisbroker.MaxUserIDLen+1)} {
		if err := b.Publish(ctx, user, []byte("x")); !errors.Is(err, redisbroker.ErrInvalidUser) {
			t.Errorf("user of %d bytes = %v", len(user), err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Publish(cancelled, "u", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context = %v", err)
	}
	if err := b.Publish(ctx, strings.Repeat("u", redisbroker.MaxUserIDLen), []byte("x")); err != nil {
		t.Errorf("longest valid user ID: %v", err)
	}
	if st := b.Stats(); st.PublishErrors != 3 || st.Published != 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}

	// Messages under the prefix that no Broker published are counted and
	// dropped, never delivered.
	p := redisbroker.DefaultPrefix
	brokertest.MalformedAreCountedNotDelivered(t, b, []string{p + ".!!!", p + ".a.b"}, p+".YWxpY2U",
		func(ch string) {
			if err := client.Publish(ctx, ch, "x").Err(); err != nil {
				t.Fatal(err)
			}
		}, func() uint64 { return b.Stats().Malformed })
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "u", []byte("x")); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("Publish after Close = %v", err)
	}
	if _, err := b.Subscribe(func(string, []byte) {}); !errors.Is(err, redisbroker.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		t.Errorf("Close closed a client the broker does not own: %v", err)
	}
}

func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b, err := redisbroker.Connect(srv.URL(""), redisbroker.Options{PendingMessages: 2, Logger: brokertest.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	brokertest.SlowSubscriberDropsAreCounted(t, b, 2, func() uint64 { return b.Stats().Delivered }, func() uint64 { return b.Stats().Dropped })
}

// TestCloseEndsSubscriptionsLeftOpen: a broker closed before its Factory
// still stops the goroutines of its subscriptions (goleak checks).
func TestCloseEndsSubscriptionsLeftOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newBroker(t, srv.URL(""))
	unsub, err := b.Subscribe(func(string, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := unsub(); err != nil {
		t.Errorf("unsubscribe after Close = %v", err)
	}
}

// TestSecretsNeverLeak: neither an error, nor the broker's log, nor the
// go-redis client's own log holds the password of the URL, whether the URL
// is malformed, the password is wrong, or Redis goes away and comes back.
// It is not parallel: it installs the go-redis client's process-wide
// logger, which then captures the client's log of this test alone.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "s3cret-Pa55"
	clientLog := &testlog.Buffer{}
	redis.SetLogger(printfLogger{clientLog})
	logger, brokerLog := testlog.New()
	check := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secret) {
			t.Errorf("%s holds the password: %s", what, s)
		}
	}

	for _, u := range []string{"redis://user:" + secret + "@127.0.0.1:bad", "redis://user:" + secret + "@%zz", "redis://" + secret + "@127.0.0.1:1/x/y"} {
		_, err := redisbroker.Connect(u, redisbroker.Options{Logger: logger})
		if err == nil {
			t.Fatalf("Connect(malformed) succeeded")
		}
		check("Connect's error for a malformed URL", err.Error())
		if _, ok := errors.AsType[*url.Error](err); !ok && !strings.Contains(u, "/x/y") {
			t.Errorf("Connect error %v does not wrap the parse error", err)
		}
	}

	srv := redistest.Start(t, "--requirepass", secret)
	_, err := redisbroker.Connect(srv.URL("default:wrong-"+secret+"@"), redisbroker.Options{Logger: logger})
	if err == nil || errors.Is(err, redisbroker.ErrDisconnected) {
		t.Errorf("Connect with a wrong password = %v, want Redis's refusal", err)
	} else {
		check("Connect's error for a wrong password", err.Error())
	}
	b, err := redisbroker.Connect(srv.URL("default:"+secret+"@"), redisbroker.Options{Logger: logger, ReconnectWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	unsub, err := b.Subscribe(func(string, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	srv.Stop()
	brokertest.WaitFor(t, "the broker to notice the outage", func() bool { return !b.Connected() })
	err = b.Publish(context.Background(), "alice", []byte("x"))
	if !errors.Is(err, redisbroker.ErrDisconnected) {
		t.Errorf("Publish during the outage = %v", err)
	}
	check("Publish's error during an outage", err.Error())
	check("Stats", fmt.Sprintf("%+v %#v", b.Stats(), b.Stats()))
	srv.Restart()
	brokertest.WaitFor(t, "the subscription to be restored", func() bool { return b.Stats().Reconnects == 1 })
	if !strings.Contains(brokerLog.String(), "subscription lost") || !strings.Contains(brokerLog.String(), "subscription restored") {
		t.Errorf("the broker did not log the outage and the recovery: %s", brokerLog)
	}
	check("the broker's log", brokerLog.String())
	check("the go-redis client's log", clientLog.String())
}
