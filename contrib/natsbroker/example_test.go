package natsbroker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

func Example() {
	// A NATS server for the example; in production, your cluster.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go ns.Start()
	defer ns.WaitForShutdown()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		panic("nats-server did not start")
	}

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
