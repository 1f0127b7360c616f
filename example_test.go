package ssot_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ssotkit/ssot"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/wsmanager"
)

// A service stops its parts in one call when it is told to (in a real one,
// when the context of signal.NotifyContext ends), with a grace period.
func ExampleShutdown() {
	backend, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Development)
	if err != nil {
		panic(err)
	}
	authn, err := auth.New(backend, auth.Options{})
	if err != nil {
		panic(err)
	}
	factory, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	grace, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(ssot.Shutdown(grace, srv, factory, authn))
	fmt.Println(<-served)
	_, err = authn.Authenticate(context.Background(), "alice-token")
	fmt.Println(errors.Is(err, auth.ErrClosed))
	// Output:
	// <nil>
	// http: Server closed
	// true
}
