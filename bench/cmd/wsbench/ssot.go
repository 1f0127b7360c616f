package main

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/ssotkit/ssot/wsmanager"
)

// ssotPeer serves each client as its own user through a wsmanager Factory,
// over the transport of its Upgrader; the ssot peers differ in that alone.
// Authentication is left out: this measures the manager, not auth. An idle
// client's user has the ThreadID idleParam, which Broadcast's filter
// leaves out.
type ssotPeer struct {
	f    *wsmanager.Factory
	up   wsmanager.Upgrader
	next atomic.Int64
}

// newSSOTPeerOver returns an ssotPeer over up, or err; it takes what an
// adapter's NewUpgrader returns.
func newSSOTPeerOver(up wsmanager.Upgrader, err error) (peer, error) {
	if err != nil {
		return nil, err
	}
	// The same room as every buffering peer: queueSize messages, as many
	// 16 KiB ones as centrifuge's queue holds, each with its slot.
	f, err := wsmanager.NewFactory(wsmanager.Options{QueueSize: queueSize, QueueBytes: queueSize * (16<<10 + 64)})
	if err != nil {
		return nil, err
	}
	return &ssotPeer{f: f, up: up}, nil
}

// handle registers the client as the one connection of a new user,
// upgrades it and serves it, with a handler that ignores what clients send,
// on a goroutine of the factory's, so the handler returns at once, as
// NewEndpoint does with EndpointOptions.Detach.
func (p *ssotPeer) handle(w http.ResponseWriter, r *http.Request) {
	uc := wsmanager.UserContext{UserID: "u" + strconv.FormatInt(p.next.Add(1), 10)}
	if isIdle(r) {
		uc.ThreadID = idleParam
	}
	res, err := p.f.Reserve(context.WithoutCancel(r.Context()), uc)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	c, err := p.up.Upgrade(w, r, "")
	if err != nil {
		res.Release()
		return
	}
	_ = res.Go(c, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
}

func (p *ssotPeer) broadcast(msg []byte) { p.f.Broadcast(context.Background(), msg, active) }

// active is Broadcast's filter: every user but the idle ones.
func active(uc wsmanager.UserContext) bool { return uc.ThreadID != idleParam }

// conns counts the connections the factory has registered, which a
// Broadcast reaches; a counter bumped before Serve would let the driver
// broadcast before the last clients could receive.
func (p *ssotPeer) conns() int { return int(p.f.Stats().ConnsActive) }
func (p *ssotPeer) close()     { _ = p.f.Close(context.Background()) }
