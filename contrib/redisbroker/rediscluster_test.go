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

// connectCluster returns a Broker on the cluster, closed when the test
// ends.
func connectCluster(t *testing.T, c *redistest.Cluster) *redisbroker.Broker {
	t.Helper()
	b, err := redisbroker.ConnectCluster(c.Addrs(), redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet(), ReconnectWait: 50 * time.Millisecond},
		func(o *redis.ClusterOptions) { o.DialTimeout = 500 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestClusterOptionsAreValidated(t *testing.T) {
	t.Parallel()
	if _, err := redisbroker.NewCluster(nil, redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("NewCluster(nil) = %v", err)
	}
	for name, o := range map[string]*redis.ClusterOptions{
		"retries":   {Addrs: []string{"127.0.0.1:1"}, MaxRetries: 2, MaxRedirects: -1},
		"redirects": {Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1},
	} {
		cc := redis.NewClusterClient(o)
		if _, err := redisbroker.NewCluster(cc, redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
			t.Errorf("NewCluster with a client that %s = %v", name, err)
		}
		cc.Close()
	}
	if _, err := redisbroker.ConnectCluster(nil, redisbroker.Options{}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("ConnectCluster without addresses = %v", err)
	}
	if _, err := redisbroker.ConnectCluster([]string{"127.0.0.1:1"}, redisbroker.Options{Prefix: "a{b}"}); !errors.Is(err, redisbroker.ErrInvalidOptions) {
		t.Errorf("ConnectCluster with braces in the prefix = %v", err)
	}
}

// TestClusterSurvivesAMasterKilled runs the pub/sub Router and the Log on
// a three-master Redis Cluster with a replica each. Users spread over
// every master; a master is killed (SIGKILL) while messages flow. Delivery
// resumes once its replica has taken over; each user's messages arrive in
// order, none twice; the publisher counts what it could not publish, and
// the Log delivers every message it acknowledged.
func TestClusterSurvivesAMasterKilled(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	pub, sub := connectCluster(t, c), connectCluster(t, c)
	writer, err := redisbroker.NewLog(connectCluster(t, c), redisbroker.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := redisbroker.NewLog(connectCluster(t, c), redisbroker.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(func(string, []byte) {}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Subscribe on a cluster = %v, want ErrUnsupported", err)
	}
	rec, logRec := newRecorder(), &logRecorder{}
	in := subscribeUsers(t, sub, rec.deliver)
	logIn, err := reader.SubscribeLogUsers(logRec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer logIn.Close()
	var users []string
	for u := range 12 {
		users = append(users, "user-"+strconv.Itoa(u))
	}
	add(t, in, users...)
	add(t, logIn, users...)

	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer admin.Close()
	ctx := context.Background()
	masters := map[string]bool{}
	for _, u := range users {
		m, err := admin.MasterForKey(ctx, brokerkit.Topic("test.users", u))
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
	}
	if len(masters) != 3 {
		t.Fatalf("the users' channels are on %d masters, want all 3", len(masters))
	}
	victim, err := admin.MasterForKey(ctx, brokerkit.Topic("test.users", users[0]))
	if err != nil {
		t.Fatal(err)
	}
	victimAddr := victim.Options().Addr

	// Send message i to every user until, after the kill, every user has
	// received a later message through both paths.
	var mu sync.Mutex
	acked := map[string][]string{} // what the Log acknowledged, per user
	sent, killedAt := 0, -1
	resumed := func() bool {
		for _, u := range users {
			got, logged := rec.of(u), logRec.of(u)
			if len(got) == 0 || len(logged) == 0 {
				return false
			}
			last, _ := strconv.Atoi(got[len(got)-1])
			lastLogged, _ := strconv.Atoi(logged[len(logged)-1].msg)
			if last <= killedAt+1 || lastLogged <= killedAt+1 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(45 * time.Second)
	for i := 0; killedAt < 0 || !resumed(); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not resume after the kill at message %d (sent %d)", killedAt, sent)
		}
		if i == 50 {
			c.Kill(victimAddr)
			killedAt = i
		}
		for _, u := range users {
			msg := strconv.Itoa(i)
			_ = pub.Publish(ctx, u, []byte(msg)) // counted in Stats
			err := writer.AppendAsync(ctx, u, "", []byte(msg), func(_ wsmanager.Position, err error) {
				if err == nil {
					mu.Lock()
					acked[u] = append(acked[u], msg)
					mu.Unlock()
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		sent += len(users)
		time.Sleep(5 * time.Millisecond)
	}
	// Everything acknowledged is in; let the stragglers arrive.
	time.Sleep(200 * time.Millisecond)

	ps := pub.Stats()
	if ps.PublishErrors == 0 {
		t.Errorf("the publisher counted no message lost while a master was down: %+v", ps)
	}
	if st := sub.Stats(); st.Reconnects == 0 {
		t.Errorf("the subscriber never resubscribed: %+v", st)
	}
	delivered := 0
	for _, u := range users {
		got := rec.of(u)
		delivered += len(got)
		if !slices.IsSortedFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y }) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("%s: pub/sub delivered out of order or twice: %q", u, got)
		}
		// Every acknowledged message the stream holds is delivered, once,
		// in order. An acknowledged append that the master had not yet
		// replicated when it was killed is lost with it: Redis's loss, not
		// the Log's, and delivered only if it was before the kill.
		mu.Lock()
		ack := slices.Clone(acked[u])
		mu.Unlock()
		stored := map[string]bool{}
		var entries []redis.XMessage
		brokertest.WaitFor(t, "the stream, from its master now", func() bool {
			admin.ReloadState(ctx)
			entries, err = admin.XRange(ctx, "{"+brokerkit.Topic("test.users.log", u)+"}.stream", "-", "+").Result()
			return err == nil
		})
		for _, e := range entries {
			stored[e.Values["m"].(string)] = true
		}
		logged := msgs(logRec.of(u))
		inLog := map[string]bool{}
		for _, m := range logged {
			inLog[m] = true
		}
		want := slices.DeleteFunc(slices.Clone(ack), func(m string) bool { return !stored[m] && !inLog[m] })
		if !slices.Equal(logged, want) {
			t.Errorf("%s: the Log delivered %d messages; of the %d acknowledged, %d are stored or were delivered; want those, in order\n got %q\nwant %q", u, len(logged), len(ack), len(want), logged, want)
		}
	}
	t.Logf("pub/sub: %d sent, %d confirmed, %d counted lost by the publisher, %d delivered; Log writer %+v, reader %+v", sent, ps.Published, ps.PublishErrors, delivered, writer.Stats(), reader.Stats())
	if uint64(delivered) > ps.Published {
		t.Errorf("delivered %d, more than the %d Redis confirmed", delivered, ps.Published)
	}
}

// TestClusterLogResumesOnAnotherNodeAfterOneIsKilled is
// TestLogResumesOnAnotherNodeAfterOneIsKilled on a Redis Cluster.
func TestClusterLogResumesOnAnotherNodeAfterOneIsKilled(t *testing.T) {
	t.Parallel()
	const total = 300
	c := redistest.StartCluster(t)
	var lc brokertest.LogCluster
	var first *redisbroker.Log
	for i := range lc.Nodes {
		l, err := redisbroker.NewLog(connectCluster(t, c), redisbroker.LogOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = l
		}
		lc.Nodes[i] = brokertest.NewFactory(t, l, wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 1}, QueueSize: total})
	}
	lc.Kill = func() {
		if err := first.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := lc.Nodes[0].Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
	brokertest.ResumeAcrossNodes(t, lc, total)
}

// TestClusterFollowsAMovedSlot moves the hash slot of a user's channel to
// another master, as a resharding does: Redis ends the subscription on
// the old master (a sunsubscribe the node did not ask for), and the node
// subscribes on the new one; the user's messages flow again.
func TestClusterFollowsAMovedSlot(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	pub, sub := connectCluster(t, c), connectCluster(t, c)
	rec := newRecorder()
	in := subscribeUsers(t, sub, rec.deliver)
	add(t, in, "alice")
	ctx := context.Background()
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer admin.Close()
	channel := brokerkit.Topic("test.users", "alice")
	slot, err := admin.ClusterKeySlot(ctx, channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, err := admin.MasterForKey(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var masters []*redis.Client
	if err := admin.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters = append(masters, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var dst *redis.Client
	for _, m := range masters {
		if m.Options().Addr != src.Options().Addr {
			dst = m
			break
		}
	}
	srcID, err := src.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	dstID, err := dst.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		on   *redis.Client
		args []any
	}{
		{dst, []any{"cluster", "setslot", slot, "importing", srcID}},
		{src, []any{"cluster", "setslot", slot, "migrating", dstID}},
		{dst, []any{"cluster", "setslot", slot, "node", dstID}},
		{src, []any{"cluster", "setslot", slot, "node", dstID}},
	} {
		if err := step.on.Do(ctx, step.args...).Err(); err != nil {
			t.Fatalf("%v: %v", step.args, err)
		}
	}
	brokertest.WaitFor(t, "the node to subscribe on the new master", func() bool {
		n, err := dst.Do(ctx, "pubsub", "shardnumsub", channel).Slice()
		return err == nil && len(n) == 2 && n[1] == int64(1)
	})
	// The publisher may learn of the move from a refused SPUBLISH.
	brokertest.WaitFor(t, "a message through the new master", func() bool {
		_ = pub.Publish(ctx, "alice", []byte("moved"))
		return slices.Contains(rec.of("alice"), "moved")
	})
	if st := sub.Stats(); st.Reconnects == 0 {
		t.Errorf("the move was not counted as a restored subscription: %+v", st)
	}
}
