package wsmanagertest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// factoryPair serves one connection through the adapter with a Factory
// made from opts and a Handler that echoes, and returns the Factory, the
// registered connection, the client, and a channel that receives Serve's
// result.
func factoryPair(t *testing.T, tr Transport, opts wsmanager.Options) (*wsmanager.Factory, *wsmanager.Connection, *Client, <-chan error) {
	t.Helper()
	return factoryPairWith(t, tr, opts, Options{})
}

// factoryPairWith is factoryPair with the adapter's options topts.
func factoryPairWith(t *testing.T, tr Transport, opts wsmanager.Options, topts Options) (*wsmanager.Factory, *wsmanager.Connection, *Client, <-chan error) {
	t.Helper()
	conns := make(chan *wsmanager.Connection, 1)
	ended := make(chan error, 1)
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.OnConnect = func(c *wsmanager.Connection) { conns <- c }
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		t.Fatal(err)
	}
	up := tr.NewUpgrader(t, topts)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := f.Reserve(context.WithoutCancel(r.Context()), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		conn, err := up.Upgrade(w, r, "")
		if err != nil {
			res.Release()
			return
		}
		ended <- res.Serve(conn, wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
			return c.Send(ctx, msg) // an echo
		}))
	}), func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("Factory.Close: %v", err)
		}
	})
	client := DialURL(t, url, nil)
	return f, <-conns, client, ended
}

// testBurstWithDefaults: with the default Options, a burst of 5,000
// messages of 100 bytes to a client that reads reaches it whole and in
// order, and nothing is closed: the default queue is bounded in bytes, and
// a burst that fits it never makes a reader that keeps up "slow".
func testBurstWithDefaults(t *testing.T, tr Transport) {
	const burst, size = 5000, 100
	f, c, client, _ := factoryPair(t, tr, wsmanager.Options{})
	ctx := Context(t)
	_, _ = c.Wait(ctx, func(s statemachine.ConnState) bool { return s.IsOperational() })
	pad := make([]byte, size)
	for i := range burst {
		msg := fmt.Appendf(nil, "%05d", i)
		msg = append(msg, pad[len(msg):]...)
		if err := c.Send(ctx, msg); err != nil {
			t.Fatalf("Send %d of the burst: %v", i, err)
		}
	}
	for i := range burst {
		_, msg, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("read %d of %d: %v", i, burst, err)
		}
		if want := fmt.Sprintf("%05d", i); string(msg[:5]) != want || len(msg) != size {
			t.Fatalf("message %d is %q (%d bytes), want %s… (%d bytes)", i, msg[:5], len(msg), want, size)
		}
	}
	if st := f.Stats(); st.SlowCloses != 0 || c.State().IsTerminal() {
		t.Errorf("SlowCloses %d, state %v: the burst closed a reader that kept up", st.SlowCloses, c.State())
	}
}

// testStoppedReaderClosed: a client that stops reading is closed with 1008
// once a write has waited WriteTimeout. The queue is made large enough
// never to fill, so that time alone decides: the server sends until its
// writer has taken nothing for a while, because its write is stuck on the
// full socket, stops, and the connection is closed within WriteTimeout and
// a second of the stall, counted as a slow close.
func testStoppedReaderClosed(t *testing.T, tr Transport) {
	const writeTimeout = time.Second
	f, c, client, ended := factoryPair(t, tr, wsmanager.Options{WriteTimeout: writeTimeout, QueueBytes: 256 << 20})
	_ = client.SetReadBuffer(4096)
	ctx := Context(t)
	_, _ = c.Wait(ctx, func(s statemachine.ConnState) bool { return s.IsOperational() })
	msg := make([]byte, 1024)
	// A writer takes up to 1,024 messages at a time: with more than this
	// waiting, unchanged for a while, it is stuck in a write.
	const stuck = 4096
	var stalled time.Time
	for deadline := time.Now().Add(Timeout); ; {
		if err := c.Send(ctx, msg); err != nil {
			t.Fatalf("Send: %v: the connection closed before its writes stalled", err)
		}
		if c.Pending() < stuck {
			stalled = time.Time{}
			continue
		}
		if stalled.IsZero() {
			stalled = time.Now()
		}
		if time.Since(stalled) > 100*time.Millisecond {
			break // the writer is blocked on the socket: stop sending
		}
		if time.Now().After(deadline) {
			t.Fatal("the server's writes never stalled for a client that stopped reading")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-ended:
	case <-time.After(writeTimeout + time.Second):
		t.Fatal("Serve did not return within WriteTimeout and a second of the stall")
	}
	if took := time.Since(stalled); took > writeTimeout+time.Second {
		t.Errorf("closed %v after the writes stalled, want within WriteTimeout + 1s", took)
	}
	// The 1008 could not go out over the stuck socket: the ending is the
	// server's, with no close frame on the wire.
	if st := f.Stats(); st.SlowCloses != 1 || st.EndedByServer != 1 || st.EndedByCode.Abnormal != 1 {
		t.Errorf("SlowCloses %d, ended by the server %d, with no close frame %d; want 1, 1, 1", st.SlowCloses, st.EndedByServer, st.EndedByCode.Abnormal)
	}
}

// testOversizeEnding: a message over the read limit is answered by the
// transport with 1009, and the connection ends with that code
// (wsmanager.Ending, by way of wsmanager.SentCloseError), not the 1011 the
// package would otherwise send.
func testOversizeEnding(t *testing.T, tr Transport) {
	f, c, client, ended := factoryPairWith(t, tr, wsmanager.Options{}, Options{ReadLimit: 64})
	ctx := Context(t)
	_, _ = c.Wait(ctx, func(s statemachine.ConnState) bool { return s.IsOperational() })
	if err := client.WriteMessage(OpText, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	if ce, err := client.ReadClose(); err != nil || ce.Code != 1009 {
		t.Errorf("client saw close %v, %v; want 1009", ce, err)
	}
	select {
	case <-ended:
	case <-time.After(Timeout):
		t.Fatal("the connection did not end")
	}
	if e, _ := c.Ending(); e.Outcome != wsmanager.OutcomeFailed || e.Code != 1009 {
		t.Errorf("ended %+v, want failed with 1009", e)
	}
	if got := f.Stats().EndedByCode.TooBig; got != 1 {
		t.Errorf("endings with 1009 %d, want 1", got)
	}
}
