package main

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/wsmanager"
)

// ssotPeer serves each client as its own user through a wsmanager Factory.
// Authentication is left out: this measures the manager, not auth.
type ssotPeer struct {
	f    *wsmanager.Factory
	next atomic.Int64
}

func newSSOTPeer() (peer, error) {
	f, err := wsmanager.NewFactory(wsmanager.Options{QueueSize: queueSize})
	if err != nil {
		return nil, err
	}
	return &ssotPeer{f: f}, nil
}

// coderConn adapts a coder/websocket connection to wsmanager.Conn.
type coderConn struct{ c *websocket.Conn }

func (c coderConn) Read(ctx context.Context) ([]byte, error) {
	_, b, err := c.c.Read(ctx)
	return b, err
}

func (c coderConn) Write(ctx context.Context, msg []byte) error {
	return c.c.Write(ctx, websocket.MessageBinary, msg)
}

func (c coderConn) Close(code int, reason string) error {
	return c.c.Close(websocket.StatusCode(code), reason)
}

func (p *ssotPeer) handle(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	if p.serve(r.Context(), coderConn{c}) != nil {
		_ = c.CloseNow()
	}
}

// serve serves conn as the one connection of a new user, with a handler
// that ignores what clients send, until it closes. Both wsmanager peers
// go through it, so they differ in the transport alone. An error means the
// factory refused the user; conn is then the caller's to close.
func (p *ssotPeer) serve(ctx context.Context, conn wsmanager.Conn) error {
	m, err := p.f.Manager(wsmanager.UserContext{UserID: "u" + strconv.FormatInt(p.next.Add(1), 10)})
	if err != nil {
		return err
	}
	_ = m.Serve(ctx, conn, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	return nil
}

func (p *ssotPeer) broadcast(msg []byte) { p.f.Broadcast(context.Background(), msg, nil) }

// conns counts the connections the factory has registered, which a
// Broadcast reaches; a counter bumped before Serve would let the driver
// broadcast before the last clients could receive.
func (p *ssotPeer) conns() int { return int(p.f.Stats().ConnsActive) }
func (p *ssotPeer) close()     { _ = p.f.Close(context.Background()) }
