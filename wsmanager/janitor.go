package wsmanager

import "time"

// janitorDivisor sets how often the janitor looks for idle managers and
// stuck writes: every IdleTimeout/janitorDivisor and every
// WriteTimeout/janitorDivisor. A Manager is removed, and a stuck write
// abandoned, between 1 and 1+1/janitorDivisor times its timeout.
const janitorDivisor = 4

// janitor is the factory's one background goroutine, running until Close.
// It removes managers that have had no connections for IdleTimeout, and it
// is the write watchdog.
func (f *Factory) janitor() {
	defer close(f.janitorDone)
	idle := time.NewTicker(max(f.opts.IdleTimeout/janitorDivisor, time.Millisecond))
	defer idle.Stop()
	writes := time.NewTicker(max(f.opts.WriteTimeout/janitorDivisor, time.Millisecond))
	defer writes.Stop()
	for {
		select {
		case <-f.stopJanitor:
			return
		case now := <-idle.C:
			f.sweep(now)
		case <-writes.C:
			f.watchWrites()
		}
	}
}

// sweep removes the managers idle since before now-IdleTimeout.
func (f *Factory) sweep(now time.Time) {
	var idle []*Manager
	for _, m := range f.managers() {
		if m.closeIfIdle(now, f.opts.IdleTimeout) {
			idle = append(idle, m)
		}
	}
	if len(idle) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range idle {
		f.removeLocked(m)
	}
}

// watchWrites runs every WriteTimeout/janitorDivisor and times out a write
// that was already under way, with no later write started, at
// janitorDivisor+1 consecutive ticks: it has then lasted at least
// WriteTimeout. Watching progress from one goroutine keeps timers and clock
// reads off the write path, at the price of that granularity.
func (f *Factory) watchWrites() {
	for _, m := range f.managers() {
		p := m.conns.Load()
		if p == nil {
			continue
		}
		for _, c := range *p {
			writes := c.writes.Load()
			switch {
			case !c.writing.Load():
				c.wdTicks = 0
			case writes != c.wdWrites || c.wdTicks == 0:
				c.wdWrites, c.wdTicks = writes, 1
			default:
				c.wdTicks++
				if c.wdTicks > janitorDivisor {
					c.writeTimedOut()
				}
			}
		}
	}
}
