package redisbroker_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

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

// A user's history in Redis Streams: what is appended comes back from
// Replay after a position, with its thread, and a position the stream
// cannot resume from is ErrPositionLost.
func ExampleLog() {
	addr, stop := exampleRedis()
	defer stop()

	b, err := redisbroker.Connect("redis://"+addr, redisbroker.Options{Prefix: "chat.users"})
	if err != nil {
		log.Fatal(err)
	}
	l, err := redisbroker.NewLog(b, redisbroker.LogOptions{MessagesPerUser: 100})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close(context.Background()) // closes b too
	ctx := context.Background()

	// A client's first connection starts at the head of its stream.
	head, _ := l.Replay(ctx, "alice", wsmanager.Position{}, nil)
	first, _ := l.Append(ctx, "alice", "", []byte("hello"))
	second, _ := l.Append(ctx, "alice", "tab-2", []byte("to tab 2"))
	fmt.Println(first.Epoch == head.Epoch, first.Seq < second.Seq)

	_, err = l.Replay(ctx, "alice", head, func(pos wsmanager.Position, threadID string, msg []byte) error {
		fmt.Printf("%q %s\n", threadID, msg)
		return nil
	})
	fmt.Println(err)

	_, err = l.Replay(ctx, "alice", wsmanager.Position{Epoch: head.Epoch + 2, Seq: first.Seq}, func(wsmanager.Position, string, []byte) error { return nil })
	fmt.Println(errors.Is(err, wsmanager.ErrPositionLost))
	// Output:
	// true true
	// "" hello
	// "tab-2" to tab 2
	// <nil>
	// true
}

// exampleRedis starts a redis-server for an example on a free port of
// 127.0.0.1 and returns its address and a function that stops it. In
// production, your Redis.
func exampleRedis() (addr string, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dir, err := os.MkdirTemp("", "redisbroker-example")
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	addr = "127.0.0.1:" + port
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			log.Fatal("redis-server did not start")
		}
	}
	return addr, func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
}
