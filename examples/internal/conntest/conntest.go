// Package conntest is the conformance suite every transport adapter of the
// examples passes: it drives an adapter's wsmanager.Upgrader and
// wsmanager.Conn over real loopback sockets against a coder/websocket client,
// the kind of peer a service really meets.
package conntest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/wsmanager"
)

// Options are the Upgrader settings a test asks a transport for.
type Options struct {
	ReadLimit      int64    // zero: the adapter's default
	OriginPatterns []string // extra allowed origin hosts
}

// Transport describes the adapter under test.
type Transport struct {
	// New returns an Upgrader configured by opts; it fails the test on error.
	New func(t testing.TB, opts Options) wsmanager.Upgrader
	// ErrCloseCode is the adapter's sentinel for a code that may not be sent.
	ErrCloseCode error
	// DefaultReadLimit is the limit an Upgrader built with a zero ReadLimit
	// enforces.
	DefaultReadLimit int64
}

// testTimeout bounds every network wait, so a broken adapter fails instead of
// hanging the run. Loopback round trips take microseconds.
const testTimeout = 10 * time.Second

// Run runs the whole suite against tr.
func Run(t *testing.T, tr Transport) {
	t.Run("CloseCodeAndReasonReachPeer", func(t *testing.T) { t.Parallel(); testCloseReachesPeer(t, tr) })
	t.Run("CloseWithUnreadData", func(t *testing.T) { t.Parallel(); testCloseWithUnreadData(t, tr) })
	t.Run("LongReasonIsShortened", func(t *testing.T) { t.Parallel(); testLongReason(t, tr) })
	t.Run("UnsendableCloseCode", func(t *testing.T) { t.Parallel(); testUnsendableCode(t, tr) })
	t.Run("PeerClose", func(t *testing.T) { t.Parallel(); testPeerClose(t, tr) })
	t.Run("Subprotocol", func(t *testing.T) { t.Parallel(); testSubprotocol(t, tr) })
	t.Run("ConcurrentWrite", func(t *testing.T) { t.Parallel(); testConcurrentWrite(t, tr) })
	t.Run("ReadLimit", func(t *testing.T) { t.Parallel(); testReadLimit(t, tr) })
	t.Run("DefaultReadLimit", func(t *testing.T) { t.Parallel(); testDefaultReadLimit(t, tr) })
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, tr) })
	t.Run("ReadContextCancel", func(t *testing.T) { t.Parallel(); testReadCancel(t, tr) })
	t.Run("StuckWrite", func(t *testing.T) { t.Parallel(); testStuckWrite(t, tr) })
	t.Run("CloseUnblocksReadAndWrite", func(t *testing.T) { t.Parallel(); testCloseUnblocks(t, tr) })
	t.Run("WriteAfterClose", func(t *testing.T) { t.Parallel(); testWriteAfterClose(t, tr) })
	t.Run("Origin", func(t *testing.T) { t.Parallel(); testOrigin(t, tr) })
}

// Server is a loopback HTTP server whose handler upgrades every request with
// an Upgrader and hands the connection to the test.
type Server struct {
	URL   string
	conns chan wsmanager.Conn
}

// NewServer starts a server on 127.0.0.1 that upgrades with up, echoing
// subprotocol. It and every connection it accepted are closed when the test
// ends.
func NewServer(t testing.TB, up wsmanager.Upgrader, subprotocol string) *Server {
	t.Helper()
	s := &Server{conns: make(chan wsmanager.Conn, 16)}
	var mu sync.Mutex
	var accepted []wsmanager.Conn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, subprotocol)
		if err != nil {
			return // the Upgrader wrote the HTTP error response
		}
		mu.Lock()
		accepted = append(accepted, c)
		mu.Unlock()
		s.conns <- c
	}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range accepted {
			_ = c.Close(1001, "test over")
		}
		srv.Close()
	})
	s.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

// Accept returns the next server-side connection.
func (s *Server) Accept(t testing.TB) wsmanager.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(testTimeout):
		t.Fatal("no connection accepted")
		return nil
	}
}

// Dial connects a coder/websocket client to s, offering subprotocols, and
// closes it when the test ends. Its read limit is off so tests can receive
// anything the server sends.
func (s *Server) Dial(t testing.TB, subprotocols ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{Subprotocols: subprotocols})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// Context returns a context bounded by the suite's network timeout.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// ReadClose reads from c until the connection ends and returns the close
// status and reason the peer sent.
func ReadClose(t testing.TB, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx := Context(t)
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		return websocket.CloseStatus(err), ""
	}
}

// closeAsync closes c on another goroutine: the close handshake needs the
// peer to read, and the test goroutine is the peer's reader.
func closeAsync(t testing.TB, c wsmanager.Conn, code int, reason string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Close(code, reason) }()
	return done
}

func wait(t testing.TB, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
		return nil
	}
}

func testCloseReachesPeer(t *testing.T, tr Transport) {
	tests := []struct {
		name   string
		code   int
		reason string
	}{
		{"normal", 1000, ""},
		{"going away", 1001, "server shutting down"},
		{"policy violation", 1008, "invalid token"},
		{"internal error", 1011, "internal error"},
		{"try again later", 1013, "auth unavailable"},
		{"private code", 4001, "kicked"},
		{"unicode reason", 1000, "au revoir, à bientôt"},
	}
	up := tr.New(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, up, "")
			client := srv.Dial(t)
			conn := srv.Accept(t)
			done := closeAsync(t, conn, tt.code, tt.reason)
			code, reason := ReadClose(t, client)
			if int(code) != tt.code || reason != tt.reason {
				t.Errorf("peer saw close %d %q, want %d %q", code, reason, tt.code, tt.reason)
			}
			if err := wait(t, done); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// testCloseWithUnreadData closes a connection whose peer sent messages no one
// read. Closing the socket with unread data makes TCP send a reset, which can
// destroy the close frame in flight; Close must finish the handshake first.
func testCloseWithUnreadData(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	ctx := Context(t)
	for range 32 {
		if err := client.Write(ctx, websocket.MessageText, []byte(strings.Repeat("u", 1024))); err != nil {
			t.Fatal(err)
		}
	}
	done := closeAsync(t, conn, 1008, "unread")
	code, reason := ReadClose(t, client)
	if code != websocket.StatusPolicyViolation || reason != "unread" {
		t.Errorf("peer saw close %d %q, want 1008 \"unread\"", code, reason)
	}
	if err := wait(t, done); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testLongReason(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	long := strings.Repeat("x", 200)
	done := closeAsync(t, conn, 1008, long)
	code, reason := ReadClose(t, client)
	if code != websocket.StatusPolicyViolation {
		t.Errorf("peer saw close %d, want 1008", code)
	}
	if want := long[:123]; reason != want {
		t.Errorf("peer saw a %d-byte reason, want the first 123 bytes", len(reason))
	}
	if err := wait(t, done); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testUnsendableCode(t *testing.T, tr Transport) {
	for _, code := range []int{1005, 1006, 1015, 999, 5000} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, tr.New(t, Options{}), "")
			client := srv.Dial(t)
			conn := srv.Accept(t)
			err := wait(t, closeAsync(t, conn, code, "nope"))
			if !errors.Is(err, tr.ErrCloseCode) {
				t.Errorf("Close(%d) = %v, want %v", code, err, tr.ErrCloseCode)
			}
			// The connection is gone all the same, without a close frame.
			if got, _ := ReadClose(t, client); got != -1 && got != websocket.StatusAbnormalClosure {
				t.Errorf("peer saw close %d, want the connection dropped", got)
			}
		})
	}
}

func testPeerClose(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	done := make(chan error, 1)
	go func() { done <- client.Close(websocket.StatusNormalClosure, "bye") }()
	if _, err := conn.Read(Context(t)); err == nil {
		t.Fatal("Read after the peer closed returned no error")
	}
	if err := wait(t, done); err != nil {
		t.Errorf("client Close: %v (the server did not answer the close handshake)", err)
	}
}

func testSubprotocol(t *testing.T, tr Transport) {
	tests := []struct {
		name    string
		server  string
		offered []string
		want    string
	}{
		{"echoed", "chat.v1", []string{"chat.v1"}, "chat.v1"},
		{"echoed beside a token", "chat.v1", []string{"chat.v1", "bearer.c2VjcmV0"}, "chat.v1"},
		{"token offered first", "chat.v1", []string{"bearer.c2VjcmV0", "chat.v1"}, "chat.v1"},
		{"token never echoed", "", []string{"bearer.c2VjcmV0"}, ""},
		{"not offered by client", "chat.v1", nil, ""},
		{"client offers another", "chat.v1", []string{"chat.v2"}, ""},
	}
	up := tr.New(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, up, tt.server)
			ctx := Context(t)
			client, resp, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: tt.offered})
			if err != nil {
				// A client that offered subprotocols and got none back
				// is allowed to refuse; coder/websocket accepts it.
				t.Fatalf("dial: %v", err)
			}
			t.Cleanup(func() { _ = client.CloseNow() })
			srv.Accept(t)
			if got := client.Subprotocol(); got != tt.want {
				t.Errorf("negotiated subprotocol %q, want %q", got, tt.want)
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tt.want {
				t.Errorf("Sec-WebSocket-Protocol header %q, want %q", got, tt.want)
			}
		})
	}
}

func testConcurrentWrite(t *testing.T, tr Transport) {
	const writers, perWriter = 8, 200
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	ctx := Context(t)

	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Messages of varied sizes so interleaved frames would
				// corrupt each other visibly.
				msg := fmt.Sprintf("%d:%d:%s", w, i, strings.Repeat("m", (w*perWriter+i)%700))
				if err := conn.Write(ctx, []byte(msg)); err != nil {
					errs <- err
					return
				}
			}
		})
	}

	next := make([]int, writers) // per-writer order must be preserved
	for range writers * perWriter {
		_, data, err := client.Read(ctx)
		if err != nil {
			t.Fatalf("client read: %v", err)
		}
		w, i, pad, ok := parseNumbered(string(data))
		if !ok || w < 0 || w >= writers {
			t.Fatalf("corrupt message %.40q", data)
		}
		if i != next[w] {
			t.Fatalf("message %d from writer %d out of order (want %d)", i, w, next[w])
		}
		if want := strings.Repeat("m", (w*perWriter+i)%700); pad != want {
			t.Fatalf("message %d from writer %d has a %d-byte body, want %d", i, w, len(pad), len(want))
		}
		next[w]++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Write: %v", err)
	}
}

// parseNumbered splits a "writer:index:body" message.
func parseNumbered(s string) (w, i int, body string, ok bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return 0, 0, "", false
	}
	w, err1 := strconv.Atoi(parts[0])
	i, err2 := strconv.Atoi(parts[1])
	return w, i, parts[2], err1 == nil && err2 == nil
}

func testReadLimit(t *testing.T, tr Transport) {
	const limit = 1024
	srv := NewServer(t, tr.New(t, Options{ReadLimit: limit}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	ctx := Context(t)

	atLimit := []byte(strings.Repeat("a", limit))
	if err := client.Write(ctx, websocket.MessageText, atLimit); err != nil {
		t.Fatal(err)
	}
	got, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("Read of a message at the limit: %v", err)
	}
	if len(got) != limit {
		t.Fatalf("Read returned %d bytes, want %d", len(got), limit)
	}

	if err := client.Write(ctx, websocket.MessageText, append(atLimit, 'b')); err != nil {
		t.Fatal(err)
	}
	if msg, err := conn.Read(ctx); err == nil {
		t.Fatalf("Read of a message over the limit returned %d bytes and no error", len(msg))
	}
	if code, _ := ReadClose(t, client); code != websocket.StatusMessageTooBig {
		t.Errorf("peer saw close %d, want 1009", code)
	}
}

func testDefaultReadLimit(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	ctx := Context(t)
	msg := make([]byte, tr.DefaultReadLimit+1)
	go func() { _ = client.Write(ctx, websocket.MessageBinary, msg) }()
	if _, err := conn.Read(ctx); err == nil {
		t.Fatalf("Read of a %d-byte message returned no error; the default limit is %d", len(msg), tr.DefaultReadLimit)
	}
}

func testRoundTrip(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	ctx := Context(t)

	sent := []string{`{"type":"hello"}`, "", "ünïcödé ✓", strings.Repeat("z", 20000)}
	for _, s := range sent {
		if err := client.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range sent {
		msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(msg))
	}
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("server read (-sent +got):\n%s", diff)
	}

	for _, s := range sent {
		if err := conn.Write(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	got = got[:0]
	for range sent {
		typ, msg, err := client.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageText {
			t.Errorf("message type %v, want text", typ)
		}
		got = append(got, string(msg))
	}
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("client read (-sent +got):\n%s", diff)
	}
}

func testReadCancel(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	srv.Dial(t)
	conn := srv.Accept(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := conn.Read(ctx)
		done <- err
	}()
	cancel()
	if err := wait(t, done); err == nil {
		t.Error("Read returned no error after its context was cancelled")
	}
}

// testStuckWrite writes to a peer that never reads until the socket buffers
// fill: the blocked Write must return when its context ends and leave the
// connection closed, which is how wsmanager's WriteTimeout sheds a stuck
// client without stalling anyone else.
func testStuckWrite(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	srv.Dial(t) // never reads
	conn := srv.Accept(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	msg := make([]byte, 64<<10)
	done := make(chan error, 1)
	go func() {
		for {
			if err := conn.Write(ctx, msg); err != nil {
				done <- err
				return
			}
		}
	}()
	if err := wait(t, done); err == nil {
		t.Fatal("writes to a peer that never reads never failed")
	}
	if err := conn.Write(Context(t), []byte("after")); err == nil {
		t.Error("Write after a write timed out succeeded; the connection should be closed")
	}
}

// testCloseUnblocks closes a connection whose peer neither reads nor
// answers while a Read and a stuck Write, both without deadlines, wait on it:
// wsmanager.Conn requires both to return once Close has been called.
func testCloseUnblocks(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	srv.Dial(t) // never reads, never answers the close
	conn := srv.Accept(t)
	ctx := t.Context()

	readDone := make(chan error, 1)
	go func() {
		_, err := conn.Read(ctx)
		readDone <- err
	}()
	writeDone := make(chan error, 1)
	msg := make([]byte, 64<<10)
	go func() {
		for {
			if err := conn.Write(ctx, msg); err != nil {
				writeDone <- err
				return
			}
		}
	}()
	// The close handshake cannot complete; Close gives up after its own
	// bound and must still release both waiters.
	closeDone := closeAsync(t, conn, 1001, "shutting down")
	if err := wait(t, readDone); err == nil {
		t.Error("Read returned no error after Close")
	}
	if err := wait(t, writeDone); err == nil {
		t.Error("Write returned no error after Close")
	}
	_ = wait(t, closeDone)
}

func testWriteAfterClose(t *testing.T, tr Transport) {
	srv := NewServer(t, tr.New(t, Options{}), "")
	client := srv.Dial(t)
	conn := srv.Accept(t)
	done := closeAsync(t, conn, 1000, "done")
	ReadClose(t, client)
	if err := wait(t, done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := conn.Write(Context(t), []byte("late")); err == nil {
		t.Error("Write after Close returned no error")
	}
	if _, err := conn.Read(Context(t)); err == nil {
		t.Error("Read after Close returned no error")
	}
}

func testOrigin(t *testing.T, tr Transport) {
	tests := []struct {
		name     string
		patterns []string
		origin   string
		wantOK   bool
	}{
		{"no origin header (not a browser)", nil, "", true},
		{"same origin", nil, "http://{host}", true},
		{"other site refused", nil, "https://evil.example", false},
		{"allowed pattern", []string{"*.example.com"}, "https://app.example.com", true},
		{"pattern is not a substring match", []string{"example.com"}, "https://example.com.evil.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, tr.New(t, Options{OriginPatterns: tt.patterns}), "")
			hdr := http.Header{}
			if tt.origin != "" {
				hdr.Set("Origin", strings.ReplaceAll(tt.origin, "{host}", strings.TrimPrefix(srv.URL, "ws://")))
			}
			c, resp, err := websocket.Dial(Context(t), srv.URL, &websocket.DialOptions{HTTPHeader: hdr})
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close()
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("dial with Origin %q: %v", tt.origin, err)
				}
				_ = c.CloseNow()
				return
			}
			if err == nil {
				_ = c.CloseNow()
				t.Fatalf("dial with Origin %q succeeded, want it refused", tt.origin)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("refused with %v, want 403", resp)
			}
		})
	}
}

// BenchWrite measures Conn.Write of size-byte messages from the server to a
// coder/websocket client that reads them on a loopback socket, from
// parallel goroutines when parallel, which exercises the adapter's write
// serialisation.
func BenchWrite(b *testing.B, up wsmanager.Upgrader, size int, parallel bool) {
	srv := NewServer(b, up, "")
	client := srv.Dial(b)
	conn := srv.Accept(b)
	ctx := Context(b)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, _, err := client.Read(ctx); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := conn.Write(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for b.Loop() {
			if err := conn.Write(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	_ = client.CloseNow()
	<-done
}
