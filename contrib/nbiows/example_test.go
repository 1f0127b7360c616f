package nbiows_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// A service that serves each connection with Reservation.Go: once the
// handshake is done, the connection holds no goroutine until its peer
// sends something. The Factory closes first, then the Upgrader.
func Example() {
	ctx := context.Background()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	up, err := nbiows.NewUpgrader(nbiows.Options{})
	if err != nil {
		panic(err)
	}
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		return c.Send(ctx, append([]byte("echo: "), msg...))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Authenticate the request here; the user is made up.
		res, err := f.Reserve(context.WithoutCancel(r.Context()), wsmanager.UserContext{UserID: "ada"})
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		conn, err := up.Upgrade(w, r, "")
		if err != nil {
			res.Release() // Upgrade wrote the HTTP error
			return
		}
		_ = res.Go(conn, echo)
	}))

	client, _, err := wsmanagertest.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	_ = client.WriteMessage(wsmanagertest.OpText, []byte("hello"))
	_, msg, err := client.ReadMessage()
	fmt.Println(string(msg), err)

	go func() { // the client answers the server's close
		if ce, err := client.ReadClose(); err == nil {
			_ = client.WriteClose(ce.Code, "")
		}
	}()
	_ = f.Close(ctx)
	srv.Close()
	_ = up.Close(ctx)
	_ = client.Close()
	// Output: echo: hello <nil>
}
