package gobwasws

import "time"

// keepalive runs every interval on the timer's goroutine, one round at a
// time: it drops a peer that has sent nothing since the last round's ping,
// and pings the others. Only a Read tells what the peer sent, so the peer
// is judged only when one Read has been reading since the ping: while the
// server is busy elsewhere (a handler that takes a few intervals), the
// pong waits unread in the socket and the peer is not dead.
func (c *Conn) keepalive(interval time.Duration) {
	if c.shut.Load() {
		return // a round that fired as CloseWithin stopped the timer
	}
	reads := c.reads.Load()
	watched := reads%2 == 1 && reads == c.pingReads
	if c.pinged && watched && !c.heard.Load() && c.dead.CompareAndSwap(false, true) {
		// Nothing since the last ping, not even a pong: the socket is
		// dropped, and Read reports ErrNoPong.
		_ = c.nc.Close()
		return
	}
	c.heard.Store(false)
	c.pingReads = reads
	// A busy writer holds the lock; its own deadline watches that peer, so
	// this round goes without a ping. The ping is due within the interval,
	// like any write, through the socket's write deadline.
	c.pinged = c.w.TryPing(time.Now().Add(interval))
	if c.shut.Load() {
		return
	}
	c.ping.Reset(interval)
	// CloseWithin sets shut before it stops the timer: whichever of its
	// Stop and this Reset comes last, the timer ends stopped.
	if c.shut.Load() {
		c.ping.Stop()
	}
}
