package nbiows

import "time"

// startKeepalive starts the connection's pings, if it has any.
func (c *Conn) startKeepalive() {
	if c.ping != nil {
		c.ping.Reset(c.u.ping)
	}
}

// stopKeepalive stops the pings for good.
func (c *Conn) stopKeepalive() {
	c.pingStop.Store(true)
	if c.ping != nil {
		c.ping.Stop()
	}
}

// keepalive runs every interval on the timer's goroutine, one round at a
// time, and on no goroutine in between: it drops a peer that has sent
// nothing since the last round's ping, and pings the others. The engine
// reads every connection as its bytes arrive, whatever its handler is
// doing, so a pong is seen as soon as it arrives.
func (c *Conn) keepalive() {
	interval := c.u.ping
	if c.pingStop.Load() || !c.u.startRound() {
		return // a round that fired as the pings were stopped
	}
	defer c.u.rounds.Done()
	if c.pinged && !c.heard.Load() && c.dead.CompareAndSwap(false, true) {
		// Nothing since the last ping, not even a pong: the socket is
		// closed, and reading ends with ErrNoPong.
		_ = c.closeSocket()
		return
	}
	c.heard.Store(false)
	// A busy writer holds the lock; its own deadline watches that peer, so
	// this round goes without a ping. The ping is due within the interval,
	// like any write, through the write deadline.
	c.pinged = c.w.TryPing(time.Now().Add(interval))
	c.ping.Reset(interval)
	// stopKeepalive sets pingStop before it stops the timer: whichever of
	// its Stop and this Reset comes last, the timer ends stopped.
	if c.pingStop.Load() {
		c.ping.Stop()
	}
}
