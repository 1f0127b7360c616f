package main

import "github.com/ssotkit/ssot/contrib/gobwasws"

// newSSOTGobwasPeer is wsmanager over contrib/gobwasws, on gobwas/ws, which
// writes everything queued for a connection with one writev: the transport
// compared with the near-limit reference.
func newSSOTGobwasPeer() (peer, error) {
	return newSSOTPeerOver(gobwasws.NewUpgrader(gobwasws.Options{Binary: true}))
}
