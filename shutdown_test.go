package ssot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// authOnClose is a transport that authenticates when it is closed, to see
// whether the authenticator is still open when the factory closes
// WebSockets.
type authOnClose struct {
	*memconn.Conn
	a *auth.Unified

	mu  sync.Mutex
	err error
}

func (c *authOnClose) Close(code int, reason string) error {
	_, err := c.a.Authenticate(context.Background(), "alice-token")
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	return c.Conn.Close(code, reason)
}

func (c *authOnClose) authErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// TestShutdownOrder runs a server with an HTTP request in flight and a
// WebSocket connection, and checks each step of Shutdown against the next:
// the factory and the authenticator stay open until the request has ended,
// the authenticator until the WebSocket was closed with 1001, and then
// everything is closed.
func TestShutdownOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	backend, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Test)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(backend, auth.Options{Logger: quiet, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	// A WebSocket connection, served until the factory closes it.
	ws := &authOnClose{Conn: memconn.New(memconn.Options{}), a: a}
	res, err := f.Reserve(ctx, wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- res.Serve(ws, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()

	// A plain HTTP request that stays in flight until released, and checks
	// then that the parts behind it are still open.
	entered, release := make(chan struct{}), make(chan struct{})
	var lateAuthErr, lateFactoryErr error
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, lateAuthErr = a.Authenticate(r.Context(), "alice-token")
		_, lateFactoryErr = f.Manager(wsmanager.UserContext{UserID: "bob"})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listening := make(chan error, 1)
	go func() { listening <- srv.Serve(ln) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	responded := make(chan error, 1)
	go func() {
		resp, err := client.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			err = resp.Body.Close()
		}
		responded <- err
	}()
	<-entered

	stopping := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(stopping) }) // called once the listeners are closed
	shut := make(chan error, 1)
	go func() { shut <- Shutdown(ctx, srv, f, a) }()
	<-stopping
	close(release)
	if err := <-responded; err != nil {
		t.Fatalf("the request in flight failed: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if lateAuthErr != nil || lateFactoryErr != nil {
		t.Errorf("while the server shut down, a request in flight got authentication %v and a manager %v; both must still work", lateAuthErr, lateFactoryErr)
	}
	if err := ws.authErr(); err != nil {
		t.Errorf("when the factory closed the WebSocket, authentication failed with %v: the authenticator closed first", err)
	}
	if code, _, ok := ws.Closed(); !ok || code != 1001 {
		t.Errorf("WebSocket closed %v with %d, want 1001", ok, code)
	}
	<-served
	if err := <-listening; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("srv.Serve = %v, want http.ErrServerClosed", err)
	}
	if _, err := a.Authenticate(ctx, "alice-token"); !errors.Is(err, auth.ErrClosed) {
		t.Errorf("Authenticate after Shutdown = %v, want ErrClosed", err)
	}
	if _, err := f.Manager(wsmanager.UserContext{UserID: "bob"}); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Factory.Manager after Shutdown = %v, want ErrClosed", err)
	}
}

// TestShutdownClosesEverythingWhenTimeRunsOut checks that a step that runs
// out of time does not leave the later parts open.
func TestShutdownClosesEverythingWhenTimeRunsOut(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	backend, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Test)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(backend, auth.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f, err := wsmanager.NewFactory(wsmanager.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := &http.Server{ReadHeaderTimeout: time.Second}
	if err := Shutdown(ctx, srv, f, a); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with an ended context = %v, want nil or context.Canceled", err)
	}
	if _, err := a.Authenticate(context.Background(), "alice-token"); !errors.Is(err, auth.ErrClosed) {
		t.Errorf("Authenticate after Shutdown = %v, want ErrClosed", err)
	}
	if _, err := f.Manager(wsmanager.UserContext{UserID: "bob"}); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Factory.Manager after Shutdown = %v, want ErrClosed", err)
	}
	if err := Shutdown(context.Background(), nil, nil, nil); err != nil {
		t.Errorf("Shutdown with nothing to stop = %v", err)
	}
}
