package natsbroker_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

func Example() {
	// A NATS server for the example; in production, your cluster.
	ns := exampleServer(server.Options{})
	defer ns.WaitForShutdown()
	defer ns.Shutdown()

	b, err := natsbroker.Connect(ns.ClientURL(), natsbroker.Options{Prefix: "chat.users"})
	if err != nil {
		panic(err)
	}
	defer b.Close(context.Background())
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b})
	if err != nil {
		panic(err)
	}
	defer f.Close(context.Background())

	// alice has no connection on this node: the message goes to the other
	// nodes only, and the count of local connections is zero.
	n, err := f.SendToUser(context.Background(), "alice", []byte("hello"))
	fmt.Println(n, err, b.Connected())
	// Output:
	// 0 <nil> true
}

func ExampleConnectLog() {
	// A NATS server with JetStream for the example; in production, your
	// cluster.
	dir, err := os.MkdirTemp("", "natsbroker-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ns := exampleServer(server.Options{JetStream: true, StoreDir: dir})
	defer ns.WaitForShutdown()
	defer ns.Shutdown()

	ctx := context.Background()
	l, err := natsbroker.ConnectLog(ns.ClientURL(), natsbroker.LogOptions{
		Options:         natsbroker.Options{Prefix: "chat.users"},
		MessagesPerUser: 1000,
	})
	if err != nil {
		panic(err)
	}
	defer l.Close(ctx)
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: l, History: wsmanager.HistoryOptions{Messages: 1}})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)

	// alice has no connection anywhere: the message waits in the stream,
	// for the client that resumes on any node.
	n, err := f.SendToUserWait(ctx, "alice", []byte("hello"))
	head, _ := l.Replay(ctx, "alice", wsmanager.Position{}, nil)
	fmt.Println(n, err, l.Stream(), head.Seq)
	// Output:
	// 0 <nil> chat_users 1
}

func ExampleLog_SubscribeLogUsers() {
	dir, err := os.MkdirTemp("", "natsbroker-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ns := exampleServer(server.Options{JetStream: true, StoreDir: dir})
	defer ns.WaitForShutdown()
	defer ns.Shutdown()

	ctx := context.Background()
	l, err := natsbroker.ConnectLog(ns.ClientURL(), natsbroker.LogOptions{Options: natsbroker.Options{Prefix: "chat.users"}})
	if err != nil {
		panic(err)
	}
	defer l.Close(ctx)

	// This node holds alice: it is handed her messages once they are
	// stored, and nobody else's.
	delivered := make(chan string, 2)
	in, err := l.SubscribeLogUsers(func(userID, threadID string, pos wsmanager.Position, msg []byte) {
		delivered <- fmt.Sprintf("%s %s at %d", userID, msg, pos.Seq)
	})
	if err != nil {
		panic(err)
	}
	defer in.Close()
	if err := in.Add(ctx, "alice"); err != nil {
		panic(err)
	}

	stored := make(chan string, 2)
	for _, user := range []string{"bob", "alice"} {
		err := l.AppendAsync(ctx, user, "", []byte("hello "+user), func(pos wsmanager.Position, err error) {
			stored <- fmt.Sprintf("%s stored at %d: %v", user, pos.Seq, err)
		})
		if err != nil {
			panic(err)
		}
	}
	fmt.Println(<-stored)
	fmt.Println(<-stored)
	fmt.Println(<-delivered)
	// Output:
	// bob stored at 1: <nil>
	// alice stored at 2: <nil>
	// alice hello alice at 2
}

// exampleServer starts an in-process nats-server on 127.0.0.1 with opts.
func exampleServer(opts server.Options) *server.Server {
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	ns, err := server.NewServer(&opts)
	if err != nil {
		panic(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		panic("nats-server did not start")
	}
	return ns
}
