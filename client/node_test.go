package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	ssotjs "github.com/ssotkit/ssot/client/js"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager"
)

// node is one ssot server on 127.0.0.1: a Factory with its endpoint at
// /ws (gobwas/ws, the token as a subprotocol beside "test.v1", refusals
// as close codes) and its server-sent events endpoint at /sse, the test
// page at /, ssot.js at /ssot.js and /token, which issues tokens for any
// user. Its handler answers in-band refreshes
// ({"type":"refresh","token":…}) with {"type":"refreshed"}, fails on
// "fail" and records every other message it receives.
type node struct {
	addr  string
	f     *wsmanager.Factory
	srv   *http.Server
	wg    sync.WaitGroup
	close sync.Once

	mu        sync.Mutex
	resumes   []string // the resume position of every connection, "" for none
	got       []string // the messages clients sent, in order
	refreshes int
	// lastEventIDs is the Last-Event-ID header of every stream opened,
	// "" for none.
	lastEventIDs []string
}

// cluster is what the nodes of one test share: the token authority and
// the authenticator.
type cluster struct {
	tokens tokens
	authn  *auth.Unified
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	k := tokens{key: []byte("a test key of 32 bytes or more, for HS256")}
	a, err := auth.New(k, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &cluster{tokens: k, authn: a}
}

// quiet is a logger that discards.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startNode starts a node with opts on a free port; the test's end stops
// it, if the test did not.
func (c *cluster) startNode(t *testing.T, opts wsmanager.Options) *node {
	t.Helper()
	return c.startNodeWith(t, opts, true)
}

// startNodeWith is startNode; without webSocket, /ws answers 502 to every
// request, as a proxy that does not pass upgrades on, and clients can
// connect only to /sse, the node's server-sent events endpoint.
func (c *cluster) startNodeWith(t *testing.T, opts wsmanager.Options, webSocket bool) *node {
	t.Helper()
	page, err := os.ReadFile("testdata/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	f, err := wsmanager.NewFactory(opts)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{f: f}
	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	handler := wsmanager.HandlerFunc(func(ctx context.Context, conn *wsmanager.Connection, msg []byte) error {
		var in struct{ Type, Token string }
		if json.Unmarshal(msg, &in) == nil && in.Type == "refresh" {
			if err := conn.Refresh(ctx, c.authn, in.Token); err != nil {
				return nil // refused: the connection closes with 1008
			}
			n.mu.Lock()
			n.refreshes++
			n.mu.Unlock()
			return conn.Send(ctx, []byte(`{"type":"refreshed"}`))
		}
		if string(msg) == "fail" {
			return errors.New("asked to fail") // the connection closes with 1011
		}
		n.mu.Lock()
		n.got = append(n.got, string(msg))
		n.mu.Unlock()
		return nil
	})
	resume := func(r *http.Request) string {
		p := r.URL.Query().Get("resume")
		n.mu.Lock()
		n.resumes = append(n.resumes, p)
		n.mu.Unlock()
		return p
	}
	ep, err := wsmanager.NewEndpoint(f, c.authn, up, handler, wsmanager.EndpointOptions{
		Subprotocol:        "test.v1",
		RequireSubprotocol: true,
		CloseAfterUpgrade:  true,
		Resume:             resume,
	})
	if err != nil {
		t.Fatal(err)
	}
	sse, err := wsmanager.NewSSEEndpoint(f, c.authn, handler, wsmanager.SSEOptions{Resume: resume, Retry: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if webSocket {
		mux.Handle("GET /ws", ep)
	} else {
		mux.HandleFunc("GET /ws", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no WebSocket here", http.StatusBadGateway)
		})
	}
	mux.Handle("/sse", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			n.mu.Lock()
			n.lastEventIDs = append(n.lastEventIDs, r.Header.Get("Last-Event-ID"))
			n.mu.Unlock()
		}
		sse.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.Handle("GET /ssot.js", ssotjs.Handler())
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ttl"))
		user := r.URL.Query().Get("user")
		if err != nil || user == "" {
			http.Error(w, "user and ttl (milliseconds) required", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, c.tokens.issue(user, time.Duration(ms)*time.Millisecond))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = ln.Addr().String()
	n.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(quiet().Handler(), slog.LevelError)}
	n.wg.Go(func() {
		if err := n.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving: %v", err)
		}
	})
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop stops the node: the factory, whose connections still open get
// 1001, then the server, which waits for the server-sent event streams
// the factory closed. Killing a node is front.drop before stop.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.f.Close(ctx); err != nil {
			t.Errorf("closing the factory: %v", err)
		}
		if err := n.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutting the server down: %v", err)
		}
		n.wg.Wait()
	})
}

// send sends msg to user through the node's factory.
func (n *node) send(t *testing.T, user, msg string) {
	t.Helper()
	if _, err := n.f.SendToUserWait(context.Background(), user, []byte(msg)); err != nil {
		t.Fatalf("sending %q to %s: %v", msg, user, err)
	}
}

// record returns copies of what the node recorded.
func (n *node) record() (resumes, got []string, refreshes int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.resumes...), append([]string(nil), n.got...), n.refreshes
}
