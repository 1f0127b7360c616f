package gorillaws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/contrib/gorillaws"
)

// A server upgrades with the adapter and asks the client to come back later;
// the client reads the code and reason.
func ExampleUpgrader() {
	up, err := gorillaws.NewUpgrader(gorillaws.Options{ReadLimit: 64 << 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, "chat.v1")
		if err != nil {
			return // Upgrade has written the HTTP error
		}
		_ = conn.Write(r.Context(), []byte("welcome"))
		_ = conn.Close(1013, "try again later")
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{
		Subprotocols: []string{"chat.v1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	fmt.Println("subprotocol:", c.Subprotocol())
	_, msg, _ := c.Read(ctx)
	fmt.Println("message:", string(msg))
	_, _, err = c.Read(ctx)
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		fmt.Println("closed:", int(ce.Code), ce.Reason)
	}
	// Output:
	// subprotocol: chat.v1
	// message: welcome
	// closed: 1013 try again later
}
