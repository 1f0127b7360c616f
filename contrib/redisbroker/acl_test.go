package redisbroker_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/internal/testkit/redistest"
	"github.com/ssotkit/ssot/wsmanager"
)

// documentedACLs returns the ACL SETUSER lines of the package doc, in
// order (a Broker's, a Log's, a Cluster's), as arguments of a command,
// with the tests' prefix and password.
func documentedACLs(t *testing.T) [][]any {
	t.Helper()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var acls [][]any
	for line := range strings.Lines(string(doc)) {
		line, ok := strings.CutPrefix(strings.TrimSpace(line), "//\tACL SETUSER ")
		if !ok {
			continue
		}
		line = strings.ReplaceAll(strings.ReplaceAll(line, "chat.users", "test.users"), ">password", ">pw")
		args := []any{"acl", "setuser"}
		for _, f := range strings.Fields(line) {
			args = append(args, f)
		}
		acls = append(acls, args)
	}
	if len(acls) != 3 {
		t.Fatalf("the package doc has %d ACL lines, want 3", len(acls))
	}
	return acls
}

// TestDocumentedACLSuffices runs nodes as a Redis user that holds exactly
// the ACL the package doc tells a deployment to grant, and checks that it
// is enforced: delivery works, and the same user cannot publish outside
// the prefix.
func TestDocumentedACLSuffices(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, documentedACLs(t)[0]...).Err(); err != nil {
		t.Fatal(err)
	}
	var nodes []*wsmanager.Factory
	for range 3 {
		nodes = append(nodes, brokertest.NewFactory(t, newBroker(t, srv.URL("chat:pw@")), wsmanager.Options{}))
	}
	brokertest.ExactlyOnceInOrder(t, nodes)

	chat := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "chat", Password: "pw"})
	defer chat.Close()
	if err := chat.Publish(ctx, "elsewhere", "x").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("publishing outside the prefix = %v, want NOPERM", err)
	}
}

// TestDocumentedLogACLSuffices: a Log whose Redis user holds exactly the
// documented ACL appends, delivers live, catches up and replays; the user
// can touch no other key.
func TestDocumentedLogACLSuffices(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, documentedACLs(t)[1]...).Err(); err != nil {
		t.Fatal(err)
	}
	// The scripts are not loaded yet: the Log loads them itself.
	writer := newLog(t, srv.URL("chat:pw@"), redisbroker.LogOptions{MaxAge: 3600e9})
	reader := newLog(t, srv.URL("chat:pw@"), redisbroker.LogOptions{MaxAge: 3600e9})
	if err := admin.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, writer, reader, func() {
		if err := admin.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
	})
	chat := redis.NewClient(&redis.Options{Addr: srv.Addr(), Username: "chat", Password: "pw"})
	defer chat.Close()
	if err := chat.XAdd(ctx, &redis.XAddArgs{Stream: "elsewhere", Values: []any{"a", "b"}}).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("writing a key outside the Log's = %v, want NOPERM", err)
	}
}

// TestDocumentedClusterACLSuffices is TestDocumentedLogACLSuffices on a
// Redis Cluster, with the Cluster's line on every node, and the Broker's
// publish/subscribe too.
func TestDocumentedClusterACLSuffices(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	ctx := context.Background()
	for _, addr := range c.Addrs() {
		admin := redis.NewClient(&redis.Options{Addr: addr})
		err := admin.Do(ctx, documentedACLs(t)[2]...).Err()
		admin.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	connect := func() *redisbroker.Broker {
		b, err := redisbroker.ConnectCluster(c.Addrs(), redisbroker.Options{Prefix: "test.users", Logger: brokertest.Quiet()},
			func(o *redis.ClusterOptions) { o.Username, o.Password = "chat", "pw" })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		return b
	}
	pub, sub := connect(), connect()
	rec := newRecorder()
	in := subscribeUsers(t, sub, rec.deliver)
	var users []string
	for u := range 12 {
		users = append(users, "user-"+strconv.Itoa(u))
	}
	add(t, in, users...)
	// A machine under load may time a pipeline out: the test is of the
	// permissions, so a message is published again until it arrives.
	for _, u := range users {
		brokertest.WaitFor(t, u+"'s message", func() bool {
			if slices.Contains(rec.of(u), "hi "+u) {
				return true
			}
			_ = pub.Publish(ctx, u, []byte("hi "+u))
			time.Sleep(20 * time.Millisecond)
			return slices.Contains(rec.of(u), "hi "+u)
		})
	}
	if st := pub.Stats(); st.PublishErrors != 0 {
		t.Logf("publish errors under load: %+v", st)
	}
	writer, err := redisbroker.NewLog(connect(), redisbroker.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := redisbroker.NewLog(connect(), redisbroker.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkLog(t, writer, reader, nil)
}

// checkLog appends through writer for two users while reader delivers
// them live; interrupt, if set, is called halfway. Every message arrives
// once, in order, and Replay returns them all.
func checkLog(t *testing.T, writer, reader *redisbroker.Log, interrupt func()) {
	t.Helper()
	rec := &logRecorder{}
	in, err := reader.SubscribeLogUsers(rec.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	add(t, in, "alice", "bob")
	ctx := context.Background()
	const n = 100
	var first wsmanager.Position
	for i := range n {
		if i == n/2 && interrupt != nil {
			interrupt()
		}
		for _, u := range []string{"alice", "bob"} {
			pos, err := writer.Append(ctx, u, "", []byte(strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && u == "alice" {
				first = pos
			}
		}
	}
	brokertest.WaitFor(t, "every message", func() bool { return len(rec.of("alice")) >= n && len(rec.of("bob")) >= n })
	for _, u := range []string{"alice", "bob"} {
		if got := msgs(rec.of(u)); !slices.Equal(got, numbers(n)) {
			t.Errorf("%s got %q", u, got)
		}
	}
	var replayed []string
	if _, err := writer.Replay(ctx, "alice", first, func(_ wsmanager.Position, _ string, msg []byte) error {
		replayed = append(replayed, string(msg))
		return nil
	}); err != nil || !slices.Equal(replayed, numbers(n)[1:]) {
		t.Errorf("replay: %q, %v", replayed, err)
	}
}

// TestAddRefusedByRedisFails: an Add whose subscription Redis refuses (an
// ACL without the user's channel) returns Redis's error, not a timeout.
func TestAddRefusedByRedisFails(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, "acl", "setuser", "chat", "on", ">pw", "resetchannels", "&elsewhere.*", "-@all", "+subscribe", "+unsubscribe", "+ping", "+publish").Err(); err != nil {
		t.Fatal(err)
	}
	b := newBroker(t, srv.URL("chat:pw@"))
	in := subscribeUsers(t, b, func(string, []byte) {})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := in.Add(ctx, "alice"); err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("Add refused by the ACL = %v, want Redis's NOPERM", err)
	}
}
