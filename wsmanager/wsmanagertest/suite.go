package wsmanagertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// Options are the Upgrader settings a test asks the adapter for.
type Options struct {
	ReadLimit      int64    // zero: the adapter's default
	OriginPatterns []string // origin hosts allowed besides the request's own
	Binary         bool     // send binary frames
}

// Transport describes the adapter under test.
type Transport struct {
	// NewUpgrader returns an Upgrader configured by opts; it fails the test
	// on error.
	NewUpgrader func(t testing.TB, opts Options) wsmanager.Upgrader
	// DefaultReadLimit is the read limit of an Upgrader built with a zero
	// ReadLimit.
	DefaultReadLimit int64
	// ErrCloseCode is what Conn.Close returns (matched with errors.Is) for
	// a code that may not be sent in a close frame.
	ErrCloseCode error
	// Batch says whether the adapter's Conn implements wsmanager.BatchConn;
	// the suite checks that it does exactly when Batch is set, and then
	// checks WriteBatch.
	Batch bool
}

// Run runs the whole conformance suite against tr, each case in parallel.
func Run(t *testing.T, tr Transport) {
	cases := []struct {
		name string
		run  func(*testing.T, Transport)
	}{
		{"RoundTrip", testRoundTrip},
		{"Binary", testBinary},
		{"ReadLimit", testReadLimit},
		{"DefaultReadLimit", testDefaultReadLimit},
		{"ConcurrentWrite", testConcurrentWrite},
		{"ConcurrentWriteAndClose", testConcurrentWriteAndClose},
		{"WriteBatch", testWriteBatch},
		{"PeerCloseCodes", testPeerCloseCodes},
		{"PeerGoesAway", testPeerGoesAway},
		{"ServerCloseReachesPeer", testServerClose},
		{"CloseWithUnreadData", testCloseWithUnreadData},
		{"LongReasonIsShortened", testLongReason},
		{"UnsendableCloseCode", testUnsendableCode},
		{"Subprotocol", testSubprotocol},
		{"Origin", testOrigin},
		{"ReadContextCancel", testReadCancel},
		{"StuckWrite", testStuckWrite},
		{"CloseUnblocksReadAndWrite", testCloseUnblocks},
		{"UseAfterClose", testUseAfterClose},
		{"ServeEnds", testServeEnds},
		{"BurstWithDefaults", testBurstWithDefaults},
		{"StoppedReaderClosed", testStoppedReaderClosed},
		{"OversizeEnding", testOversizeEnding},
		{"WriteDeadline", testWriteDeadline},
		{"AbortUnblocks", testAbortUnblocks},
		{"CloseAfterTimeout", testCloseAfterTimeout},
		{"ClosePassedDeadline", testClosePassedDeadline},
		{"CloseWithinDelivers", testCloseWithinDelivers},
		{"CloseWithinBounded", testCloseWithinBounded},
		{"WriteMessagesWhileReading", testWriteMessagesWhileReading},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, tr)
		})
	}
}

// pair returns a server-side Conn and the Client connected to it.
func pair(t *testing.T, tr Transport, opts Options, header http.Header) (wsmanager.Conn, *Client) {
	t.Helper()
	srv := NewServer(t, tr.NewUpgrader(t, opts), "")
	client := srv.Dial(t, header)
	return srv.Accept(t), client
}

// closeAsync closes c on another goroutine: the close handshake needs the
// peer to read, and the test goroutine is the peer.
func closeAsync(c wsmanager.Conn, code int, reason string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.Close(code, reason) }()
	return done
}

func wait(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(Timeout):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

func readMessages(t *testing.T, c *Client, n int) ([]Opcode, []string) {
	t.Helper()
	var ops []Opcode
	var got []string
	for range n {
		op, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("client read: %v", err)
		}
		ops = append(ops, op)
		got = append(got, string(msg))
	}
	return ops, got
}

func testRoundTrip(t *testing.T, tr Transport) {
	// A limit above 64 KiB, so the 64-bit length encoding is exercised.
	conn, client := pair(t, tr, Options{ReadLimit: 1 << 20}, nil)
	ctx := Context(t)
	sent := []string{`{"type":"hello"}`, "", "ünïcödé ✓", strings.Repeat("z", 20000), strings.Repeat("y", 70000)}
	for _, s := range sent {
		if err := client.WriteMessage(OpText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// A fragmented message and a ping between its fragments.
	if err := client.WriteFrame(false, OpText, []byte("frag")); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteMessage(OpPing, []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteFrame(true, OpContinuation, []byte("mented")); err != nil {
		t.Fatal(err)
	}
	sent = append(sent, "fragmented")
	for i, want := range sent {
		msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("server read %d: %v", i, err)
		}
		if string(msg) != want {
			t.Fatalf("server read %d: %d bytes %.20q, want %d bytes %.20q", i, len(msg), msg, len(want), want)
		}
	}
	for _, s := range sent {
		if err := conn.Write(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	ops, got := readMessages(t, client, len(sent))
	if !slices.Equal(got, sent) {
		t.Errorf("client read %.60q, want %.60q", got, sent)
	}
	for _, op := range ops {
		if op != OpText {
			t.Errorf("opcode %#x, want text", op)
		}
	}
}

func testBinary(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{Binary: true}, nil)
	ctx := Context(t)
	payload := []byte{0, 0xFF, 0xFE, 'x'} // not UTF-8: only a binary frame may carry it
	if err := client.WriteMessage(OpBinary, payload); err != nil {
		t.Fatal(err)
	}
	if msg, err := conn.Read(ctx); err != nil || !slices.Equal(msg, payload) {
		t.Fatalf("server read %x, %v; want %x", msg, err, payload)
	}
	if err := conn.Write(ctx, payload); err != nil {
		t.Fatal(err)
	}
	op, msg, err := client.ReadMessage()
	if err != nil || op != OpBinary || !slices.Equal(msg, payload) {
		t.Errorf("client read %#x %x, %v; want a binary %x", op, msg, err, payload)
	}
}

func testReadLimit(t *testing.T, tr Transport) {
	const limit = 1024
	conn, client := pair(t, tr, Options{ReadLimit: limit}, nil)
	ctx := Context(t)
	atLimit := []byte(strings.Repeat("a", limit))
	if err := client.WriteMessage(OpText, atLimit); err != nil {
		t.Fatal(err)
	}
	if got, err := conn.Read(ctx); err != nil || len(got) != limit {
		t.Fatalf("Read of a message at the limit: %d bytes, %v", len(got), err)
	}
	if err := client.WriteMessage(OpText, append(atLimit, 'b')); err != nil {
		t.Fatal(err)
	}
	msg, err := conn.Read(ctx)
	if err == nil {
		t.Fatalf("Read of a message over the limit returned %d bytes and no error", len(msg))
	}
	var ce *wsmanager.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.EOF) {
		t.Errorf("Read over the limit = %v, want an abnormal error (the peer did not close)", err)
	}
	if ce, err := client.ReadClose(); err != nil || ce.Code != wsmanager.CodeTooBig {
		t.Errorf("peer saw close %v, %v; want 1009", ce, err)
	}
}

func testDefaultReadLimit(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	msg := make([]byte, tr.DefaultReadLimit+1)
	go func() { _ = client.WriteMessage(OpBinary, msg) }()
	if _, err := conn.Read(Context(t)); err == nil {
		t.Fatalf("Read of a %d-byte message returned no error; the default limit is %d", len(msg), tr.DefaultReadLimit)
	}
}

// numbered is a message "writer:index:padding" whose padding length varies,
// so interleaved frames would corrupt each other visibly.
func numbered(w, i int) string {
	return fmt.Sprintf("%d:%d:%s", w, i, strings.Repeat("m", (w*131+i*17)%700))
}

// checkOrder reads n messages and checks that each writer's arrive whole
// and in order.
func checkOrder(t *testing.T, client *Client, writers, n int) {
	t.Helper()
	next := make([]int, writers)
	for range n {
		_, data, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("client read: %v", err)
		}
		parts := strings.SplitN(string(data), ":", 3)
		if len(parts) != 3 {
			t.Fatalf("corrupt message %.40q", data)
		}
		w, err1 := strconv.Atoi(parts[0])
		i, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil || w < 0 || w >= writers || string(data) != numbered(w, i) {
			t.Fatalf("corrupt message %.40q", data)
		}
		if i != next[w] {
			t.Fatalf("message %d from writer %d out of order (want %d)", i, w, next[w])
		}
		next[w]++
	}
}

func testConcurrentWrite(t *testing.T, tr Transport) {
	const writers, perWriter = 8, 200
	conn, client := pair(t, tr, Options{}, nil)
	ctx := Context(t)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := conn.Write(ctx, []byte(numbered(w, i))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	checkOrder(t, client, writers, writers*perWriter)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Write: %v", err)
	}
}

// testConcurrentWriteAndClose closes a connection while writers are busy on
// it: every Write returns, those after Close fail, Close returns, and the
// race detector sees no unsynchronised access.
func testConcurrentWriteAndClose(t *testing.T, tr Transport) {
	const writers = 4
	conn, client := pair(t, tr, Options{}, nil)
	ctx := Context(t)
	go func() { _, _ = client.ReadClose() }()
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := conn.Write(ctx, []byte(numbered(w, i)))
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					return
				}
			}
		})
	}
	for range writers {
		<-started
	}
	_ = wait(t, "Close", closeAsync(conn, wsmanager.CodeNormal, ""))
	done := make(chan error)
	go func() { wg.Wait(); close(done) }()
	_ = wait(t, "the writers", done)
	if err := conn.Write(ctx, []byte("after")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func testWriteBatch(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	bc, ok := conn.(wsmanager.BatchConn)
	if ok != tr.Batch {
		t.Fatalf("Conn implements BatchConn: %v; the Transport says %v", ok, tr.Batch)
	}
	if !ok {
		return
	}
	ctx := Context(t)
	const writers = 4
	sizes := []int{1, 2, 7, 64, 300}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	total := 0
	for range sizes {
		for _, n := range sizes {
			total += n
		}
	}
	for w := range writers {
		wg.Go(func() {
			i := 0
			for range sizes {
				for _, n := range sizes {
					batch := make([][]byte, n)
					for k := range batch {
						batch[k] = []byte(numbered(w, i))
						i++
					}
					if err := bc.WriteBatch(ctx, batch); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	checkOrder(t, client, writers, writers*total)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("WriteBatch: %v", err)
	}
	// A batch must not keep its slices: the caller reuses them at once.
	msgs := [][]byte{[]byte("first"), []byte("second")}
	if err := bc.WriteBatch(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	copy(msgs[0], "XXXXX")
	if _, got := readMessages(t, client, 2); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("client read %q after the batch's buffers were reused", got)
	}
}

// testPeerCloseCodes: a close frame from the peer, with any code or none,
// is a *wsmanager.CloseError from Read, and Close afterwards completes the
// handshake.
func testPeerCloseCodes(t *testing.T, tr Transport) {
	for _, code := range []int{1000, 1001, 4000, 0} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			conn, client := pair(t, tr, Options{}, nil)
			reason := "see you"
			want := code
			if code == 0 {
				reason, want = "", wsmanager.CodeNoStatus
			}
			if err := client.WriteClose(code, reason); err != nil {
				t.Fatal(err)
			}
			_, err := conn.Read(Context(t))
			var ce *wsmanager.CloseError
			if !errors.As(err, &ce) || ce.Code != want || ce.Reason != reason {
				t.Fatalf("Read = %v, want a CloseError with %d %q", err, want, reason)
			}
			done := closeAsync(conn, wsmanager.CodeNormal, "")
			if _, err := client.ReadClose(); err != nil {
				t.Errorf("the server did not answer the close: %v", err)
			}
			_ = wait(t, "Close", done)
		})
	}
}

// testPeerGoesAway: a peer that resets the connection, or closes its socket
// without a close frame, ends it abnormally: Read's error is neither io.EOF
// nor a CloseError.
func testPeerGoesAway(t *testing.T, tr Transport) {
	for name, end := range map[string]func(*Client) error{"reset": (*Client).Reset, "no close frame": (*Client).Close} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, client := pair(t, tr, Options{}, nil)
			if err := client.WriteMessage(OpText, []byte("last words")); err != nil {
				t.Fatal(err)
			}
			if err := end(client); err != nil {
				t.Fatal(err)
			}
			ctx := Context(t)
			var err error
			for err == nil {
				_, err = conn.Read(ctx)
			}
			var ce *wsmanager.CloseError
			if errors.Is(err, io.EOF) || errors.As(err, &ce) || ctx.Err() != nil {
				t.Errorf("Read = %v, want an abnormal end", err)
			}
			_ = conn.Close(wsmanager.CodeNormal, "")
		})
	}
}

func testServerClose(t *testing.T, tr Transport) {
	tests := []struct {
		name   string
		code   int
		reason string
	}{
		{"normal", 1000, ""},
		{"going away", 1001, "server shutting down"},
		{"policy violation", 1008, "token expired"},
		{"internal error", 1011, "internal error"},
		{"try again later", 1013, "too many connections"},
		{"private code", 4001, "kicked"},
		{"unicode reason", 1000, "au revoir, à bientôt"},
	}
	up := tr.NewUpgrader(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, up, "")
			client := srv.Dial(t, nil)
			conn := srv.Accept(t)
			done := closeAsync(conn, tt.code, tt.reason)
			ce, err := client.ReadClose()
			if err != nil || ce.Code != tt.code || ce.Reason != tt.reason {
				t.Errorf("peer saw close %v, %v; want %d %q", ce, err, tt.code, tt.reason)
			}
			if err := client.WriteClose(ce.Code, ""); err != nil {
				t.Fatal(err)
			}
			if err := wait(t, "Close", done); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// testCloseWithUnreadData closes a connection whose peer sent messages no one
// read. Closing the socket with unread data makes TCP send a reset, which can
// destroy the close frame in flight; Close must finish the handshake first.
func testCloseWithUnreadData(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	for range 32 {
		if err := client.WriteMessage(OpText, []byte(strings.Repeat("u", 1024))); err != nil {
			t.Fatal(err)
		}
	}
	done := closeAsync(conn, 1008, "unread")
	ce, err := client.ReadClose()
	if err != nil || ce.Code != 1008 || ce.Reason != "unread" {
		t.Errorf("peer saw close %v, %v; want 1008 \"unread\"", ce, err)
	}
	_ = client.WriteClose(1008, "")
	if err := wait(t, "Close", done); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testLongReason(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	long := strings.Repeat("x", 200)
	done := closeAsync(conn, 1008, long)
	ce, err := client.ReadClose()
	if err != nil || ce.Code != 1008 || ce.Reason != long[:123] {
		t.Errorf("peer saw close %v, %v; want 1008 and the first 123 bytes of the reason", ce, err)
	}
	_ = client.WriteClose(1008, "")
	if err := wait(t, "Close", done); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testUnsendableCode(t *testing.T, tr Transport) {
	for _, code := range []int{1005, 1006, 1015, 999, 5000} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			conn, client := pair(t, tr, Options{}, nil)
			err := wait(t, "Close", closeAsync(conn, code, "nope"))
			if !errors.Is(err, tr.ErrCloseCode) {
				t.Errorf("Close(%d) = %v, want %v", code, err, tr.ErrCloseCode)
			}
			// The connection is gone all the same, without a close frame.
			if ce, err := client.ReadClose(); err == nil {
				t.Errorf("peer saw close %d, want the connection dropped", ce.Code)
			}
		})
	}
}

func testSubprotocol(t *testing.T, tr Transport) {
	tests := []struct {
		name    string
		server  string
		offered string
		want    string
	}{
		{"echoed", "chat.v1", "chat.v1", "chat.v1"},
		{"echoed beside a token", "chat.v1", "chat.v1, bearer.c2VjcmV0", "chat.v1"},
		{"token offered first", "chat.v1", "bearer.c2VjcmV0, chat.v1", "chat.v1"},
		{"token never echoed", "", "bearer.c2VjcmV0", ""},
		{"not offered by client", "chat.v1", "", ""},
		{"client offers another", "chat.v1", "chat.v2", ""},
	}
	up := tr.NewUpgrader(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, up, tt.server)
			hdr := http.Header{}
			if tt.offered != "" {
				hdr.Set("Sec-WebSocket-Protocol", tt.offered)
			}
			client := srv.Dial(t, hdr)
			srv.Accept(t)
			if got := client.Response.Header.Values("Sec-WebSocket-Protocol"); len(got) > 1 || client.Subprotocol() != tt.want {
				t.Errorf("Sec-WebSocket-Protocol %q, want %q", got, tt.want)
			}
		})
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
			srv := NewServer(t, tr.NewUpgrader(t, Options{OriginPatterns: tt.patterns}), "")
			hdr := http.Header{}
			if tt.origin != "" {
				hdr.Set("Origin", strings.ReplaceAll(tt.origin, "{host}", strings.TrimPrefix(srv.URL, "ws://")))
			}
			c, resp, err := Dial(Context(t), srv.URL, hdr)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("dial with Origin %q: %v", tt.origin, err)
				}
				_ = c.Close()
				return
			}
			if err == nil {
				_ = c.Close()
				t.Fatalf("dial with Origin %q succeeded, want it refused", tt.origin)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("refused with %v, want 403", resp)
			}
		})
	}
}

func testReadCancel(t *testing.T, tr Transport) {
	conn, _ := pair(t, tr, Options{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := conn.Read(ctx)
		done <- err
	}()
	cancel()
	if err := wait(t, "Read", done); err == nil {
		t.Error("Read returned no error after its context was cancelled")
	}
}

// testStuckWrite writes to a peer that never reads until the socket buffers
// fill: the blocked Write, or WriteBatch, must return when its context's
// deadline passes, which is how wsmanager's WriteTimeout sheds a stuck
// client without stalling anyone else.
func testStuckWrite(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	_ = client.SetReadBuffer(4096)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	msg := make([]byte, 64<<10)
	done := make(chan error, 1)
	go func() {
		for {
			var err error
			if bc, ok := conn.(wsmanager.BatchConn); ok {
				err = bc.WriteBatch(ctx, [][]byte{msg, msg})
			} else {
				err = conn.Write(ctx, msg)
			}
			if err != nil {
				done <- err
				return
			}
		}
	}()
	if err := wait(t, "the stuck write", done); err == nil {
		t.Fatal("writes to a peer that never reads never failed")
	}
}

// testCloseUnblocks closes a connection whose peer neither reads nor
// answers while a Read and a stuck Write, both without deadlines, wait on it:
// wsmanager.Conn requires both to return once Close has been called.
func testCloseUnblocks(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	_ = client.SetReadBuffer(4096)
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
	closeDone := closeAsync(conn, 1001, "shutting down")
	if err := wait(t, "Read", readDone); err == nil {
		t.Error("Read returned no error after Close")
	}
	if err := wait(t, "Write", writeDone); err == nil {
		t.Error("Write returned no error after Close")
	}
	_ = wait(t, "Close", closeDone)
}

func testUseAfterClose(t *testing.T, tr Transport) {
	conn, client := pair(t, tr, Options{}, nil)
	done := closeAsync(conn, 1000, "done")
	if _, err := client.ReadClose(); err != nil {
		t.Fatal(err)
	}
	_ = client.WriteClose(1000, "")
	if err := wait(t, "Close", done); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := conn.Write(Context(t), []byte("late")); err == nil {
		t.Error("Write after Close returned no error")
	}
	if _, err := conn.Read(Context(t)); err == nil {
		t.Error("Read after Close returned no error")
	}
}
