package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// ssotGorillaPeer is ssotPeer over gorilla/websocket, the transport melody
// and the chat hub use, so that the manager is compared like for like.
type ssotGorillaPeer struct {
	*ssotPeer
	up gorilla.Upgrader
}

func newSSOTGorillaPeer() (peer, error) {
	p, err := newSSOTPeer()
	if err != nil {
		return nil, err
	}
	return &ssotGorillaPeer{ssotPeer: p.(*ssotPeer)}, nil
}

// gorillaConn adapts a gorilla connection to wsmanager.Conn: gorilla allows
// one writer at a time, and Close may race with the manager's writer.
type gorillaConn struct {
	c  *gorilla.Conn
	mu sync.Mutex
}

func (c *gorillaConn) Read(context.Context) ([]byte, error) {
	_, b, err := c.c.ReadMessage()
	return b, err
}

func (c *gorillaConn) Write(ctx context.Context, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		_ = c.c.SetWriteDeadline(d)
	}
	return c.c.WriteMessage(gorilla.BinaryMessage, msg)
}

func (c *gorillaConn) Close(code int, reason string) error {
	c.mu.Lock()
	_ = c.c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.mu.Unlock()
	return c.c.Close()
}

func (p *ssotGorillaPeer) handle(w http.ResponseWriter, r *http.Request) {
	c, err := p.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if p.serve(r.Context(), &gorillaConn{c: c}) != nil {
		_ = c.Close()
	}
}
