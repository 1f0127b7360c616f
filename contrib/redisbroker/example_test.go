package redisbroker_test

import (
	"context"
	"log"
	"os"

	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// A node of a cluster: its Factory's SendToUser reaches the user's
// connections on every node that shares the Redis server and the prefix.
// (It needs a Redis server, so it is compiled but not run by go test.)
func Example() {
	b, err := redisbroker.Connect(os.Getenv("REDIS_URL"), redisbroker.Options{Prefix: "chat.users"})
	if err != nil {
		log.Fatal(err) // the error never quotes the URL or its password
	}
	defer b.Close(context.Background())
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: b})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close(context.Background()) // before the broker's Close

	n, err := f.SendToUser(context.Background(), "alice", []byte("hello"))
	log.Println(n, err, b.Stats().Published)
}
