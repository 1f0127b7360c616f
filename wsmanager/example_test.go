package wsmanager_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// printConn stands in for a WebSocket: it prints what the server writes and
// reads what the example pushes into in. Real services use an adapter for
// their WebSocket library (github.com/ssotkit/ssot/contrib/gobwasws,
// coderws or gorillaws).
type printConn struct {
	name  string
	in    chan []byte
	wrote chan struct{}
}

func newPrintConn(name string) *printConn {
	return &printConn{name: name, in: make(chan []byte), wrote: make(chan struct{}, 16)}
}

func (c *printConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return nil, io.EOF
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *printConn) Write(_ context.Context, msg []byte) error {
	fmt.Printf("%s <- %s\n", c.name, msg)
	c.wrote <- struct{}{}
	return nil
}

func (c *printConn) Close(code int, _ string) error {
	fmt.Printf("%s closed with %d\n", c.name, code)
	return nil
}

func ExampleFactory() {
	ctx := context.Background()
	ready := make(chan struct{}, 2)
	f, err := wsmanager.NewFactory(wsmanager.Options{
		OnConnect: func(*wsmanager.Connection) { ready <- struct{}{} },
	})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx) // closes every connection with 1001 and waits

	alice, bob := newPrintConn("alice"), newPrintConn("bob")
	served := make(map[string]chan error)
	for user, conn := range map[string]*printConn{"alice": alice, "bob": bob} {
		// In a service, wsmanager.NewEndpoint does this after
		// authenticating the request: the user comes from the identity.
		done := make(chan error, 1)
		served[user] = done
		go func() {
			done <- f.Serve(ctx, wsmanager.UserContext{UserID: user}, conn,
				wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
		}()
	}
	<-ready
	<-ready

	// Only alice's connections can receive this: there is no way to
	// address bob through alice's manager, nor alice through bob's.
	n, err := f.SendToUser(ctx, "alice", []byte("hello, alice"))
	<-alice.wrote
	fmt.Println("queued to", n, "connection(s)", err)
	close(alice.in) // alice leaves
	<-served["alice"]
	close(bob.in)
	<-served["bob"]
	// Output:
	// alice <- hello, alice
	// queued to 1 connection(s) <nil>
	// alice closed with 1000
	// bob closed with 1000
}

func ExampleHandlerFunc() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)
	m, err := f.Manager(wsmanager.UserContext{UserID: "alice", ThreadID: "support"})
	if err != nil {
		panic(err)
	}

	// A handler answers on the connection the message came from; c.User()
	// says whose it is, and it cannot be anyone else's.
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, fmt.Appendf(nil, "%s/%s said %q", c.User().UserID, c.User().ThreadID, msg))
	})
	conn := newPrintConn("alice")
	done := make(chan error)
	go func() { done <- m.Serve(ctx, conn, echo) }()

	conn.in <- []byte("hi")
	<-conn.wrote
	close(conn.in) // the peer goes away: Serve returns nil
	fmt.Println("Serve returned", <-done)
	// Output:
	// alice <- alice/support said "hi"
	// alice closed with 1000
	// Serve returned <nil>
}

// A handler ends its connection by moving the machine to Closing: what was
// queued before is still written, then the transport is closed with 1000,
// and only then does the machine reach Closed and OnDisconnect run.
func ExampleConnection_Machine() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{
		OnDisconnect: func(c *wsmanager.Connection, err error) {
			fmt.Println("disconnected in", c.Machine().State(), "with", err)
		},
	})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)
	bye := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		if err := c.Send(ctx, []byte("goodbye")); err != nil {
			return err
		}
		return c.Machine().Transition(statemachine.Closing, "client said "+string(msg))
	})
	conn := newPrintConn("alice")
	done := make(chan error)
	go func() { done <- f.Serve(ctx, wsmanager.UserContext{UserID: "alice"}, conn, bye) }()
	conn.in <- []byte("bye")
	fmt.Println("Serve returned", <-done)
	// Output:
	// alice <- goodbye
	// alice closed with 1000
	// disconnected in closed with <nil>
	// Serve returned <nil>
}

func ExampleFactory_Reserve() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)

	// A service with its own HTTP handling reserves the connection after
	// authenticating the request and before upgrading it, as NewEndpoint
	// does: the user is reachable before the handshake completes.
	r, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		panic(err) // ErrUserLimit, ErrConnLimit...: answer in plain HTTP
	}
	_ = r.Connection().Send(ctx, []byte("welcome"))
	n, _ := f.SendToUser(ctx, "alice", []byte("sent during the handshake"))
	fmt.Println("reachable connections:", n)

	conn := newPrintConn("alice") // the upgrade; on failure, r.Release()
	done := make(chan error)
	go func() {
		done <- r.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()
	<-conn.wrote
	<-conn.wrote
	close(conn.in)
	fmt.Println("Serve returned", <-done)
	// Output:
	// reachable connections: 1
	// alice <- welcome
	// alice <- sent during the handshake
	// alice closed with 1000
	// Serve returned <nil>
}

// Factory.Drain, at the start of a rolling deploy: the node refuses new
// connections and sends the ones it has elsewhere with 1012, a batch at a
// time, so that the other nodes are not hit by all of them at once.
func ExampleFactory_Drain() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)
	conn := newPrintConn("alice")
	res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- res.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()

	// On SIGTERM: drain, then shut down (ssot.Shutdown).
	err = f.Drain(ctx, wsmanager.DrainOptions{Duration: 100 * time.Millisecond})
	fmt.Println("drained:", err)
	_, err = f.Reserve(ctx, wsmanager.UserContext{UserID: "bob"})
	fmt.Println("a new connection:", err)
	<-done
	// Output:
	// alice closed with 1012
	// drained: <nil>
	// a new connection: wsmanager: draining
}

// Factory.DisconnectUser, for a logout everywhere: every connection of the
// user is closed, on this node and, through the Broker or Log, on all the
// others.
func ExampleFactory_DisconnectUser() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close(ctx)
	conn := newPrintConn("alice")
	res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "alice", ThreadID: "support"})
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- res.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()
	if err := f.DisconnectUser(ctx, "alice", 4001, "logged out"); err != nil {
		panic(err)
	}
	fmt.Println("Serve:", <-done)
	// Output:
	// alice closed with 4001
	// Serve: wsmanager: closed
}
