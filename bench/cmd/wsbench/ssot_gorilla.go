package main

import "github.com/ssotkit/ssot/contrib/gorillaws"

// newSSOTGorillaPeer is wsmanager over contrib/gorillaws, on
// gorilla/websocket, the transport melody and the chat hub use, so that the
// manager is compared like for like.
func newSSOTGorillaPeer() (peer, error) {
	return newSSOTPeerOver(gorillaws.NewUpgrader(gorillaws.Options{Binary: true}))
}
