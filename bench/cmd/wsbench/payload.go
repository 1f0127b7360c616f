package main

import (
	"errors"
	"time"
)

// Every message is a JSON string, the same bytes for every peer, so that
// centrifuge's JSON protocol can carry it as the data of a publication as
// it is: a quote, the send time as timeDigits decimal digits of
// nanoseconds since the Unix epoch, padding, a quote.
const (
	timeDigits = 19
	minSize    = timeDigits + 2
)

// stamp writes the send time t into msg, which is at least minSize bytes,
// and pads the rest.
func stamp(msg []byte, t time.Time) {
	msg[0] = '"'
	n := t.UnixNano()
	for i := timeDigits; i >= 1; i-- {
		msg[i] = byte('0' + n%10)
		n /= 10
	}
	for i := timeDigits + 1; i < len(msg)-1; i++ {
		msg[i] = '.'
	}
	msg[len(msg)-1] = '"'
}

// sentAt reads the send time from the start of b, a payload made by stamp
// (its end may be cut off).
func sentAt(b []byte) (int64, error) {
	if len(b) < timeDigits+1 || b[0] != '"' {
		return 0, errors.New("payload does not start with a send time")
	}
	var n int64
	for _, c := range b[1 : timeDigits+1] {
		if c < '0' || c > '9' {
			return 0, errors.New("payload does not start with a send time")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
