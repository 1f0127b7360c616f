package main

import (
	"context"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/ssotkit/ssot/contrib/nbiows"
)

// newSSOTNbioPeer is wsmanager over contrib/nbiows, on lesismal/nbio: its
// connections are wsmanager.PushConns, read by the engine's poller and
// served with no goroutine of their own while idle.
func newSSOTNbioPeer() (peer, error) {
	// nbio logs its engine's start and stop to standard output, where the
	// server's first line must be its address.
	logging.SetLevel(logging.LevelNone)
	up, err := nbiows.NewUpgrader(nbiows.Options{Binary: true})
	if err != nil {
		return nil, err
	}
	p, err := newSSOTPeerOver(up, nil)
	if err != nil {
		_ = up.Close(context.Background())
		return nil, err
	}
	return &ssotNbioPeer{ssotPeer: p.(*ssotPeer), up: up}, nil
}

// ssotNbioPeer closes its Upgrader, and with it the engine, after the
// Factory, as nbiows asks.
type ssotNbioPeer struct {
	*ssotPeer
	up *nbiows.Upgrader
}

func (p *ssotNbioPeer) close() {
	p.ssotPeer.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.up.Close(ctx)
}
