package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/wsmanager"
)

// newSSOTGorillaPeer is wsmanager over gorilla/websocket, the transport
// melody and the chat hub use, so that the manager is compared like for
// like.
func newSSOTGorillaPeer() (peer, error) { return newSSOTPeerOver(gorillaUpgrader{}, nil) }

type gorillaUpgrader struct{ up gorilla.Upgrader }

func (u gorillaUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, _ string) (wsmanager.Conn, error) {
	c, err := u.up.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return &gorillaConn{c: c}, nil
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
