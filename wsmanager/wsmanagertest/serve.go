package wsmanagertest

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// served is how one connection served through the adapter ended.
type served struct {
	err   error
	state statemachine.ConnState
}

// testServeEnds serves connections through the adapter with a real
// wsmanager.Factory and ends them every way a peer or the server can: a
// close frame with any code, or none, ends in Closed and Serve returns nil;
// a reset or a dropped socket ends in Failed and Serve returns an error; a
// server close delivers what was queued, then the code and reason.
func testServeEnds(t *testing.T, tr Transport) {
	tests := []struct {
		name      string
		end       func(t *testing.T, c *wsmanager.Connection, client *Client)
		wantState statemachine.ConnState
		wantErr   bool
	}{
		{"peer closes with 1000", peerCloses(1000), statemachine.Closed, false},
		{"peer closes with 1001", peerCloses(1001), statemachine.Closed, false},
		{"peer closes with 4000", peerCloses(4000), statemachine.Closed, false},
		{"peer closes without a code", peerCloses(0), statemachine.Closed, false},
		{"peer resets", func(t *testing.T, _ *wsmanager.Connection, client *Client) { _ = client.Reset() }, statemachine.Failed, true},
		{"peer drops the socket", func(t *testing.T, _ *wsmanager.Connection, client *Client) { _ = client.Close() }, statemachine.Failed, true},
		{"server closes", func(t *testing.T, c *wsmanager.Connection, client *Client) {
			t.Helper()
			ctx := Context(t)
			for _, m := range []string{"one", "two", "three"} {
				if err := c.Send(ctx, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Close(4000, "bye"); err != nil {
				t.Fatal(err)
			}
			if _, got := readMessages(t, client, 3); got[0] != "one" || got[2] != "three" {
				t.Errorf("client read %q before the close, want one, two, three", got)
			}
			if ce, err := client.ReadClose(); err != nil || ce.Code != 4000 || ce.Reason != "bye" {
				t.Errorf("client saw close %v, %v; want 4000 \"bye\"", ce, err)
			}
			_ = client.WriteClose(4000, "")
		}, statemachine.Closed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c, client, ended := factoryPair(t, tr, wsmanager.Options{})
			if err := client.WriteMessage(OpText, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			if _, got := readMessages(t, client, 1); got[0] != "ping" {
				t.Fatalf("echo %q", got)
			}
			tt.end(t, c, client)
			var got served
			select {
			case err := <-ended:
				got = served{err, c.State()}
			case <-time.After(Timeout):
				t.Fatal("the connection did not end")
			}
			if got.state != tt.wantState || (got.err != nil) != tt.wantErr {
				t.Errorf("ended in %v with %v; want %v, error %v", got.state, got.err, tt.wantState, tt.wantErr)
			}
			if tt.wantState == statemachine.Failed && (errors.Is(got.err, io.EOF) || errors.Is(got.err, wsmanager.ErrClosed)) {
				t.Errorf("an abnormal end reported as %v", got.err)
			}
		})
	}
}

// peerCloses ends a connection with a close frame carrying code (none for
// 0), and checks that the server answers it.
func peerCloses(code int) func(*testing.T, *wsmanager.Connection, *Client) {
	return func(t *testing.T, _ *wsmanager.Connection, client *Client) {
		t.Helper()
		if err := client.WriteClose(code, "bye"); err != nil {
			t.Fatal(err)
		}
		if _, err := client.ReadClose(); err != nil {
			t.Errorf("the server did not answer the close: %v", err)
		}
	}
}
