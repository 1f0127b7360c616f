package main

import "github.com/ssotkit/ssot/contrib/coderws"

// newSSOTPeer is wsmanager over contrib/coderws, on coder/websocket, the
// raw loop's transport.
func newSSOTPeer() (peer, error) {
	return newSSOTPeerOver(coderws.NewUpgrader(coderws.Options{Binary: true}))
}
