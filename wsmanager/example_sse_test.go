package wsmanager_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/wsmanager"
)

// A stream of server-sent events, for clients that cannot open a
// WebSocket: messages out as events whose ids are their positions (a
// browser's EventSource presents the last one when it reconnects), and
// messages in as POSTs naming the connection's key.
func ExampleNewSSEEndpoint() {
	f, _ := wsmanager.NewFactory(wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 100}})
	defer f.Close(context.Background())
	a, _ := auth.New(auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		if token != "alice-token" {
			return auth.Identity{}, auth.ErrInvalidToken
		}
		return auth.Identity{UserID: "alice"}, nil
	}), auth.Options{})
	defer a.Close(context.Background())
	echo := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		_, err := f.SendToUser(ctx, c.User().UserID, append([]byte("echo: "), msg...))
		return err
	})
	sse, _ := wsmanager.NewSSEEndpoint(f, a, echo, wsmanager.SSEOptions{})
	srv := httptest.NewServer(sse)
	defer srv.Close()

	// EventSource sets no headers: the stream takes its token from the
	// query string.
	resp, err := http.Get(srv.URL + "?token=alice-token")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	next := func() (fields []string) {
		for {
			line, _ := events.ReadString('\n')
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				return fields
			}
			fields = append(fields, line)
		}
	}
	open := next()
	key := strings.TrimPrefix(open[1], "data: ")
	fmt.Println(open[0])
	fmt.Println(len(next()), "lines: the reset frame that says where the stream stands")

	// A message in: a POST with the same user's token, naming the key.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"?conn="+key, strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer alice-token")
	posted, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	posted.Body.Close()
	fmt.Println("POST:", posted.StatusCode)
	ev := next()
	id := strings.TrimPrefix(ev[0], "id: ")
	fmt.Println(strings.TrimPrefix(ev[1], "data: ") == id+" echo: hello")
	// Output:
	// event: open
	// 2 lines: the reset frame that says where the stream stands
	// POST: 204
	// true
}
