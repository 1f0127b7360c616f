package wsmanager

import "time"

// janitorDivisor sets how often the janitor looks for idle managers: every
// IdleTimeout/janitorDivisor, so a manager is removed between 1 and
// 1+1/janitorDivisor times IdleTimeout after its last connection left.
const janitorDivisor = 4

// sweepBatch is how many managers one hold of the Factory's write lock
// examines, so that a sweep of many managers lets Reserve and Manager in
// between.
const sweepBatch = 256

// janitor is the factory's one background goroutine, running until Close:
// it removes managers that have had no connections for IdleTimeout, and
// the history of users who have had no Manager for as long.
func (f *Factory) janitor() {
	defer close(f.janitorDone)
	idle := time.NewTicker(max(f.opts.IdleTimeout/janitorDivisor, time.Millisecond))
	defer idle.Stop()
	for {
		select {
		case <-f.stopJanitor:
			return
		case now := <-idle.C:
			f.sweep(now)
			f.sweepStreams()
		}
	}
}

// sweep closes and removes the managers idle since before now-IdleTimeout.
// Each is closed and removed under one hold of the write lock, so no caller
// of Manager, Lookup or Reserve is ever handed a Manager the sweep closed.
// It also trims the buffers of connections that have nothing to write.
func (f *Factory) sweep(now time.Time) {
	all := f.allManagers()
	for _, m := range all {
		if p := m.conns.Load(); p != nil {
			for _, c := range *p {
				c.trimIdle()
			}
		}
	}
	for len(all) > 0 {
		chunk := all[:min(sweepBatch, len(all))]
		all = all[len(chunk):]
		var gone []string
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return
		}
		for _, m := range chunk {
			if m.closeIfIdle(now, f.opts.IdleTimeout) && f.removeLocked(m) {
				gone = append(gone, m.uc.UserID)
			}
		}
		f.mu.Unlock()
		for _, u := range gone {
			f.userGone(u)
		}
	}
}
