package wsmanager_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// sseEvent is one event as an EventSource sees it.
type sseEvent struct {
	Event, ID, Data string
}

// sseClient reads one stream, as a browser's EventSource would, over a
// real socket.
type sseClient struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	key    string
	events chan sseEvent
	pings  chan struct{}
	done   chan struct{}
	err    error
}

type sseTest struct {
	h   *harness
	srv *httptest.Server
	got chan string // "user: message" for every message the handler saw
}

// newSSETest serves an SSE endpoint of a Factory built from fopts, whose
// handler echoes "echo <msg>" to the connection and records what it saw.
func newSSETest(t *testing.T, fopts wsmanager.Options, sopts wsmanager.SSEOptions) *sseTest {
	t.Helper()
	h := newHarness(t, fopts)
	a, err := auth.New(testBackend(), auth.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	st := &sseTest{h: h, got: make(chan string, 1000)}
	handler := wsmanager.HandlerFunc(func(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
		st.got <- c.User().UserID + ": " + string(msg)
		return c.Send(ctx, append([]byte("echo "), msg...))
	})
	ep, err := wsmanager.NewSSEEndpoint(h.f, a, handler, sopts)
	if err != nil {
		t.Fatal(err)
	}
	st.srv = httptest.NewServer(ep)
	// Closed before the Factory: the streams end first, then Close waits.
	t.Cleanup(st.srv.Close)
	t.Cleanup(st.srv.CloseClientConnections)
	return st
}

// open opens a stream for token with the query and headers given, and
// returns its client once the open event arrived.
func (st *sseTest) open(t *testing.T, token string, query url.Values, header http.Header) *sseClient {
	t.Helper()
	c, status := st.try(t, token, query, header)
	if status != http.StatusOK {
		t.Fatalf("stream answered %d, want 200", status)
	}
	return c
}

// try opens a stream and returns its status; the client only for 200.
func (st *sseTest) try(t *testing.T, token string, query url.Values, header http.Header) (*sseClient, int) {
	t.Helper()
	if query == nil {
		query = url.Values{}
	}
	if token != "" {
		query.Set("token", token)
	}
	req, err := http.NewRequest(http.MethodGet, st.srv.URL+"?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	c := &sseClient{t: t, resp: resp, r: bufio.NewReader(resp.Body),
		events: make(chan sseEvent, 10000), pings: make(chan struct{}, 100), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	ev := c.next()
	if ev.Event != "open" || ev.Data == "" {
		t.Fatalf("first event %+v, want open with a key", ev)
	}
	c.key = ev.Data
	return c, resp.StatusCode
}

// read parses events until the response ends.
func (c *sseClient) read() {
	defer close(c.done)
	defer close(c.events)
	var ev sseEvent
	var data []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.err = err
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != nil {
				ev.Data = strings.Join(data, "\n")
				c.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			select {
			case c.pings <- struct{}{}:
			default:
			}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.Event = value
			case "id":
				ev.ID = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// next returns the next event, failing if none comes.
func (c *sseClient) next() sseEvent {
	c.t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			c.t.Fatalf("the stream ended: %v", c.err)
		}
		return ev
	case <-time.After(testTimeout):
		c.t.Fatal("no event")
	}
	return sseEvent{}
}

// ended waits for the response to end.
func (c *sseClient) ended() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(testTimeout):
		c.t.Fatal("the stream never ended")
	}
}

func (c *sseClient) close() {
	_ = c.resp.Body.Close()
	<-c.done
}

// post posts msg to the connection key as token and returns the status.
func (st *sseTest) post(t *testing.T, token, key, msg string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, st.srv.URL+"?conn="+url.QueryEscape(key), strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func historyOptions() wsmanager.Options {
	return wsmanager.Options{History: wsmanager.HistoryOptions{Messages: 100}}
}

// Messages in by POST reach the handler in order; messages out arrive as
// events, framed as a WebSocket client gets them, with their positions as
// ids.
func TestSSERoundTrip(t *testing.T) {
	st := newSSETest(t, historyOptions(), wsmanager.SSEOptions{})
	c := st.open(t, "alice", nil, nil)
	if ev := c.next(); ev.ID == "" || ev.Data != ev.ID {
		t.Fatalf("first message %+v, want the reset frame naming the stream's head, as its id", ev)
	}
	for i := range 5 {
		if status := st.post(t, "alice", c.key, fmt.Sprint("m", i)); status != http.StatusNoContent {
			t.Fatalf("POST answered %d, want 204", status)
		}
	}
	for i := range 5 {
		if got, want := <-st.got, fmt.Sprint("alice: m", i); got != want {
			t.Fatalf("handler saw %q, want %q", got, want)
		}
		ev := c.next()
		// Connection.Send has no position: "-", and no id.
		if ev.Data != fmt.Sprint("- echo m", i) || ev.ID != "" || ev.Event != "" {
			t.Fatalf("event %+v", ev)
		}
	}
	for i := range 3 {
		if _, err := st.h.f.SendToUser(context.Background(), "alice", []byte(fmt.Sprint("line one\nline two ", i))); err != nil {
			t.Fatal(err)
		}
		ev := c.next()
		pos, msg, _ := strings.Cut(ev.Data, " ")
		if ev.ID != pos || msg != fmt.Sprint("line one\nline two ", i) {
			t.Fatalf("event %+v, want id %q and the message's two lines", ev, pos)
		}
	}
}

// A client whose stream broke presents the last id it saw as Last-Event-ID,
// as EventSource does, and gets exactly what it missed.
func TestSSEResumeWithLastEventID(t *testing.T) {
	st := newSSETest(t, historyOptions(), wsmanager.SSEOptions{})
	ctx := context.Background()
	c := st.open(t, "alice", nil, nil)
	c.next() // the reset frame
	for i := range 3 {
		if _, err := st.h.f.SendToUser(ctx, "alice", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	var last string
	for range 3 {
		last = c.next().ID
	}
	c.close()
	waitFor(t, func() bool { return st.h.f.Stats().ConnsActive == 0 })
	if got := st.h.f.Stats().EndedByPeer; got != 1 {
		t.Errorf("EndedByPeer = %d, want 1: a client that went away ended its connection", got)
	}
	for i := 3; i < 6; i++ {
		if _, err := st.h.f.SendToUser(ctx, "alice", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	c2 := st.open(t, "alice", url.Values{"resume": {"0.0"}}, http.Header{"Last-Event-Id": {last}})
	for i := 3; i < 6; i++ {
		if ev := c2.next(); !strings.HasSuffix(ev.Data, fmt.Sprint(" ", i)) {
			t.Fatalf("resumed with %+v, want message %d (Last-Event-ID is preferred to resume)", ev, i)
		}
	}
	if _, err := st.h.f.SendToUser(ctx, "alice", []byte("live")); err != nil {
		t.Fatal(err)
	}
	if ev := c2.next(); !strings.HasSuffix(ev.Data, " live") {
		t.Fatalf("after the replay: %+v, want the live message, nothing twice", ev)
	}
}

// A user's SSE connection shares the Manager, the stream and the limits of
// the user's other connections.
func TestSSESharesTheManager(t *testing.T) {
	opts := historyOptions()
	opts.MaxConnsPerManager = 2
	st := newSSETest(t, opts, wsmanager.SSEOptions{})
	ctx := context.Background()
	mem := memconn.New(memconn.Options{})
	res, err := st.h.f.Reserve(ctx, wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Go(mem, whoami()); err != nil {
		t.Fatal(err)
	}
	c := st.open(t, "alice", nil, nil)
	c.next()
	m, err := st.h.f.Manager(wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Connections()); n != 2 {
		t.Fatalf("Manager holds %d connections, want the in-memory one and the stream", n)
	}
	if _, status := st.try(t, "alice", nil, nil); status != http.StatusTooManyRequests {
		t.Errorf("a third connection answered %d, want 429 (MaxConnsPerManager)", status)
	}
	if n, err := st.h.f.SendToUser(ctx, "alice", []byte("both")); err != nil || n != 2 {
		t.Fatalf("SendToUser = %d, %v; want 2", n, err)
	}
	ev := c.next()
	cctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	mem.WaitWritten(cctx, 2)
	if w := mem.Written(); len(w) < 2 || string(w[1]) != ev.Data {
		t.Fatalf("the two connections got %q and %q, want the same framed message", w, ev.Data)
	}
}

// POSTs are refused unless they are authenticated as the stream's user
// and name an open connection.
func TestSSEPostRefusals(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{ReadLimit: 16})
	c := st.open(t, "alice", nil, nil)
	for _, tt := range []struct {
		name, token, key string
		want             int
	}{
		{"no token", "", c.key, http.StatusUnauthorized},
		{"bad token", "mallory", c.key, http.StatusUnauthorized},
		{"another user", "bob", c.key, http.StatusNotFound},
		{"unknown key", "alice", "nope", http.StatusNotFound},
	} {
		if got := st.post(t, tt.token, tt.key, "hi"); got != tt.want {
			t.Errorf("%s: POST answered %d, want %d", tt.name, got, tt.want)
		}
	}
	select {
	case got := <-st.got:
		t.Fatalf("a refused POST reached the handler: %q", got)
	default:
	}
	if got := st.post(t, "alice", c.key, strings.Repeat("x", 17)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversize POST answered %d, want 413", got)
	}
	if ev := c.next(); ev.Event != "close" || ev.Data != "1009 message too big" {
		t.Errorf("after an oversize POST: %+v, want the close event with 1009", ev)
	}
	c.ended()
	waitFor(t, func() bool { return st.h.f.Stats().ConnsActive == 0 })
	if got := st.h.f.Stats().EndedByCode; got.TooBig != 1 {
		t.Errorf("EndedByCode = %v, want one 1009", got)
	}
	if got := st.post(t, "alice", c.key, "late"); got != http.StatusNotFound {
		t.Errorf("a POST after the stream ended answered %d, want 404", got)
	}
}

// Streams are refused as NewEndpoint refuses upgrades, before any event.
func TestSSEStreamRefusals(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{})
	if _, status := st.try(t, "", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	if _, status := st.try(t, "down", nil, nil); status != http.StatusServiceUnavailable {
		t.Errorf("backend down: %d, want 503", status)
	}
	if _, status := st.try(t, "alice", url.Values{"resume": {"nonsense"}}, nil); status != http.StatusBadRequest {
		t.Errorf("bad resume: %d, want 400", status)
	}
	c := st.open(t, "bob", nil, http.Header{"Authorization": {"Bearer alice"}})
	if status := st.post(t, "alice", c.key, "hi"); status != http.StatusNoContent {
		t.Errorf("alice's POST to the stream opened with her header and bob's query token: %d, want 204 (the header is preferred)", status)
	} else if got := <-st.got; got != "alice: hi" {
		t.Errorf("handler saw %q", got)
	}
	req, _ := http.NewRequest(http.MethodPut, st.srv.URL, nil)
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// The server's close reaches the client as a close event, then the end of
// the response; Drain's 1012 included.
func TestSSEServerClose(t *testing.T) {
	disconnected := make(chan error, 10)
	st := newSSETest(t, wsmanager.Options{
		OnDisconnect: func(_ *wsmanager.Connection, err error) { disconnected <- err },
	}, wsmanager.SSEOptions{})
	c := st.open(t, "alice", nil, nil)
	if _, status := st.try(t, "bob", nil, nil); status != http.StatusOK {
		t.Fatal(status)
	}
	if err := st.h.f.Drain(context.Background(), wsmanager.DrainOptions{Duration: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if ev := c.next(); ev.Event != "close" || !strings.HasPrefix(ev.Data, "1012 ") {
		t.Fatalf("%+v, want a close event with 1012", ev)
	}
	c.ended()
	for range 2 {
		select {
		case err := <-disconnected:
			if !errors.Is(err, wsmanager.ErrClosed) {
				t.Errorf("OnDisconnect(%v), want ErrClosed", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("OnDisconnect never called")
		}
	}
	if _, status := st.try(t, "alice", nil, nil); status != http.StatusServiceUnavailable {
		t.Errorf("a stream while draining: %d, want 503", status)
	}
}

// An idle stream gets comment lines at PingInterval.
func TestSSEPing(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{PingInterval: 20 * time.Millisecond})
	c := st.open(t, "alice", nil, nil)
	for range 3 {
		select {
		case <-c.pings:
		case <-time.After(testTimeout):
			t.Fatal("no ping")
		}
	}
}

// A client that stops reading is closed by the write deadline, and no
// other user's connection is touched.
func TestSSEStoppedReaderClosed(t *testing.T) {
	opts := wsmanager.Options{WriteTimeout: 300 * time.Millisecond, QueueBytes: 64 << 20, QueueSize: 1 << 20}
	st := newSSETest(t, opts, wsmanager.SSEOptions{})
	// A raw request whose response is never read past its first bytes.
	req, _ := http.NewRequest(http.MethodGet, st.srv.URL+"?token=alice", nil)
	resp, err := st.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	bob := st.open(t, "bob", nil, nil)
	msg := []byte(strings.Repeat("x", 16<<10))
	ctx := context.Background()
	start := time.Now()
	for i := 0; st.h.f.Stats().SlowCloses == 0; i++ {
		if time.Since(start) > testTimeout {
			t.Fatalf("a client that reads nothing was never closed: %+v", st.h.f.Stats())
		}
		if i < 4096 {
			// A queue that fills first closes the connection too.
			if _, err := st.h.f.SendToUser(ctx, "alice", msg); err != nil && !errors.Is(err, wsmanager.ErrQueueFull) {
				t.Fatal(err)
			}
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	if _, err := st.h.f.SendToUser(ctx, "bob", []byte("fine")); err != nil {
		t.Fatal(err)
	}
	if ev := bob.next(); ev.Data != "fine" {
		t.Errorf("bob got %+v", ev)
	}
}

// Events are framed as the format requires: ids only for positions, and
// every line break a data line of its own.
func TestSSEEventFraming(t *testing.T) {
	st := newSSETest(t, historyOptions(), wsmanager.SSEOptions{})
	c := st.open(t, "alice", nil, nil)
	c.next()
	res, err := st.h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	for _, msg := range []string{"a\r\nb", "c\rd", "e\n", ""} {
		if _, err := st.h.f.SendToUser(context.Background(), "alice", []byte(msg)); err != nil {
			t.Fatal(err)
		}
		ev := c.next()
		pos, got, _ := strings.Cut(ev.Data, " ")
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(msg)
		if got != want || ev.ID != pos {
			t.Errorf("%q arrived as %+v, want %q with id %q", msg, ev, want, pos)
		}
	}
	if len(c.key) < 26 {
		t.Errorf("the connection key %q is short enough to guess", c.key)
	}
}

// Many POSTs from one client, in turn, reach the handler in order, while
// another client posts too.
func TestSSEPostOrder(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{})
	a := st.open(t, "alice", nil, nil)
	b := st.open(t, "bob", nil, nil)
	var wg sync.WaitGroup
	for _, p := range []struct{ user, key string }{{"alice", a.key}, {"bob", b.key}} {
		wg.Go(func() {
			for i := range 100 {
				if status := st.post(t, p.user, p.key, strconv.Itoa(i)); status != http.StatusNoContent {
					t.Errorf("POST %d: %d", i, status)
					return
				}
			}
		})
	}
	wg.Wait()
	next := map[string]int{}
	for range 200 {
		user, msg, _ := strings.Cut(<-st.got, ": ")
		if msg != strconv.Itoa(next[user]) {
			t.Fatalf("%s's handler saw %q, want %d", user, msg, next[user])
		}
		next[user]++
	}
}

// waitFor waits for cond, failing the test if it does not hold in time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

// With default Options, a burst of 5,000 messages of 100 bytes reaches a
// reading client whole and in order, and the connection stays open, as
// wsmanagertest's BurstWithDefaults asks of every WebSocket adapter.
func TestSSEBurstWithDefaults(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{})
	c := st.open(t, "alice", nil, nil)
	pad := strings.Repeat("x", 95)
	ctx := context.Background()
	for i := range 5000 {
		if _, err := st.h.f.SendToUser(ctx, "alice", fmt.Appendf(nil, "%04d%s", i, pad)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	for i := range 5000 {
		if ev := c.next(); ev.Data != fmt.Sprintf("%04d%s", i, pad) {
			t.Fatalf("message %d arrived as %.20q", i, ev.Data)
		}
	}
	if s := st.h.f.Stats(); s.ConnsActive != 1 || s.SlowCloses != 0 || s.MessagesDropped != 0 {
		t.Errorf("after the burst: %d connections, %d slow closes, %d dropped", s.ConnsActive, s.SlowCloses, s.MessagesDropped)
	}
}

// A stream whose token expires is closed with 1008, as a WebSocket is.
func TestSSETokenExpiry(t *testing.T) {
	h := newHarness(t, wsmanager.Options{})
	a, err := auth.New(auth.Func(func(context.Context, string) (auth.Identity, error) {
		return auth.Identity{UserID: "alice", ExpiresAt: time.Now().Add(200 * time.Millisecond)}, nil
	}), auth.Options{Logger: quietLogger(), CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	ep, err := wsmanager.NewSSEEndpoint(h.f, a, whoami(), wsmanager.SSEOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	st := &sseTest{h: h, srv: srv}
	c := st.open(t, "short-lived", nil, nil)
	if ev := c.next(); ev.Event != "close" || ev.Data != "1008 token expired" {
		t.Fatalf("%+v, want the close event with 1008", ev)
	}
	c.ended()
}

// Retry reaches the client as the stream's retry field, before the open
// event's data.
func TestSSERetry(t *testing.T) {
	st := newSSETest(t, wsmanager.Options{}, wsmanager.SSEOptions{Retry: 250 * time.Millisecond})
	resp, err := st.srv.Client().Get(st.srv.URL + "?token=alice")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	r := bufio.NewReader(resp.Body)
	for _, want := range []string{"retry: 250\n", "event: open\n"} {
		if line, err := r.ReadString('\n'); err != nil || line != want {
			t.Fatalf("read %q, %v; want %q", line, err, want)
		}
	}
}

// A connection takes one POST at a time: one that arrives while another is
// being handed over is refused with 429, so that a client's messages keep
// the order it sent them in.
func TestSSEOnePostAtATime(t *testing.T) {
	h := newHarness(t, wsmanager.Options{})
	a, err := auth.New(testBackend(), auth.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	entered, release, warm := make(chan struct{}), make(chan struct{}), make(chan struct{})
	hold := wsmanager.HandlerFunc(func(_ context.Context, _ *wsmanager.Connection, msg []byte) error {
		if string(msg) == "warm" {
			close(warm)
			return nil
		}
		entered <- struct{}{}
		<-release
		return nil
	})
	ep, err := wsmanager.NewSSEEndpoint(h.f, a, hold, wsmanager.SSEOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	st := &sseTest{h: h, srv: srv}
	c := st.open(t, "alice", nil, nil)
	// Served first: a POST before that is held until it is, and answered
	// at once.
	if got := st.post(t, "alice", c.key, "warm"); got != http.StatusNoContent {
		t.Fatalf("warm-up POST: %d", got)
	}
	<-warm
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"?conn="+url.QueryEscape(c.key), strings.NewReader("one"))
		req.Header.Set("Authorization", "Bearer alice")
		resp, err := srv.Client().Do(req)
		if err != nil {
			first <- -1
			return
		}
		_ = resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered
	if got := st.post(t, "alice", c.key, "two"); got != http.StatusTooManyRequests {
		t.Errorf("a POST while another is handed over: %d, want 429", got)
	}
	close(release)
	if got := <-first; got != http.StatusNoContent {
		t.Errorf("the first POST: %d, want 204", got)
	}
}
