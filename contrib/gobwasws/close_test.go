package gobwasws_test

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// TestCloseWhileAnsweringPings: Close sends its code and reason also while
// the Read under way is answering a ping: it waits its turn for the write
// lock behind the pong, rather than cut the pong short, which would break
// the stream so that the peer sees the connection end without the close
// frame (1006 in a browser) instead of the server's code.
func TestCloseWhileAnsweringPings(t *testing.T) {
	t.Parallel()
	up, err := gobwasws.NewUpgrader(gobwasws.Options{PingInterval: gobwasws.NoPing})
	if err != nil {
		t.Fatal(err)
	}
	srv := wsmanagertest.NewServer(t, up, "")
	const rounds, workers = 2000, 8
	var lost atomic.Int32
	var wg sync.WaitGroup
	var dialing sync.Mutex // pairs each Dial with its Accept
	for range workers {
		wg.Go(func() {
			for range rounds / workers {
				dialing.Lock()
				client, _, err := wsmanagertest.Dial(wsmanagertest.Context(t), srv.URL, nil)
				if err != nil {
					dialing.Unlock()
					t.Error(err)
					return
				}
				conn := srv.Accept(t)
				dialing.Unlock()
				if !closeWhilePinged(t, conn, client) {
					lost.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Errorf("%d of %d closes reached the peer without their close frame", n, rounds)
	}
}

// closeWhilePinged closes a connection whose peer keeps a few pings in
// flight at all times, and reports whether the peer got the close frame.
func closeWhilePinged(t *testing.T, conn wsmanager.Conn, client *wsmanagertest.Client) bool {
	defer client.Close()
	ctx := wsmanagertest.Context(t)
	go func() {
		for {
			if _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	const inFlight = 32
	for range inFlight {
		if err := client.WriteMessage(wsmanagertest.OpPing, nil); err != nil {
			t.Error(err)
			return true
		}
	}
	closed := make(chan error, 1)
	pongs := 0
	for {
		_, op, payload, err := client.ReadFrame()
		switch {
		case err != nil:
			<-closed
			return false // the connection ended without a close frame
		case op == wsmanagertest.OpPong:
			// Every pong is answered by another ping, so the server's
			// Read is nearly always writing a pong.
			_ = client.WriteMessage(wsmanagertest.OpPing, nil)
			if pongs++; pongs == 8 {
				go func() { closed <- conn.Close(4000, "bye") }()
			}
		case op == wsmanagertest.OpClose:
			_ = client.WriteClose(4000, "")
			<-closed
			return len(payload) >= 2 && binary.BigEndian.Uint16(payload) == 4000 && string(payload[2:]) == "bye"
		}
	}
}

// TestOversizeEndsWithTheCodeSent: a message over the read limit is answered
// with 1009, and the connection served through a Factory ends with that
// code (Connection.Ending), not the 1011 the package would send.
func TestOversizeEndsWithTheCodeSent(t *testing.T) {
	t.Parallel()
	ended := make(chan wsmanager.Ending, 1)
	f, err := wsmanager.NewFactory(wsmanager.Options{
		Logger: slog.New(slog.DiscardHandler),
		OnDisconnect: func(c *wsmanager.Connection, _ error) {
			e, _ := c.Ending()
			ended <- e
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	up, err := gobwasws.NewUpgrader(gobwasws.Options{ReadLimit: 16})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := f.Reserve(context.WithoutCancel(r.Context()), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			return
		}
		conn, err := up.Upgrade(w, r, "")
		if err != nil {
			res.Release()
			return
		}
		_ = res.Serve(conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}))
	t.Cleanup(srv.Close)
	client := wsmanagertest.DialURL(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err := client.WriteMessage(wsmanagertest.OpText, []byte(strings.Repeat("x", 64))); err != nil {
		t.Fatal(err)
	}
	if ce, err := client.ReadClose(); err != nil || ce.Code != 1009 {
		t.Errorf("client saw %v, %v; want close 1009", ce, err)
	}
	select {
	case e := <-ended:
		if e.Outcome != wsmanager.OutcomeFailed || e.Code != 1009 {
			t.Errorf("ended %+v, want failed with 1009", e)
		}
	case <-time.After(wsmanagertest.Timeout):
		t.Fatal("the connection did not end")
	}
}
