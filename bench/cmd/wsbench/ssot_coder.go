package main

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/wsmanager"
)

// newSSOTPeer is wsmanager over coder/websocket, the raw loop's transport.
func newSSOTPeer() (peer, error) { return newSSOTPeerOver(coderUpgrader{}, nil) }

type coderUpgrader struct{}

func (coderUpgrader) Upgrade(w http.ResponseWriter, r *http.Request, _ string) (wsmanager.Conn, error) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil, err
	}
	return coderConn{c}, nil
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
