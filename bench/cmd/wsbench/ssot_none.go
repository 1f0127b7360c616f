//go:build !with_wsmanager

package main

import "errors"

// ssotBuilt says whether this binary holds the wsmanager peer.
const ssotBuilt = false

func newSSOTPeer() (peer, error) {
	return nil, errors.New("built without the with_wsmanager tag")
}
