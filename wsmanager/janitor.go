package wsmanager

import "time"

// janitorDivisor sets how often the janitor looks for idle managers: every
// IdleTimeout/janitorDivisor, so a Manager is removed between IdleTimeout
// and 1.25×IdleTimeout after its last connection left.
const janitorDivisor = 4

// janitor is the factory's one background goroutine. It removes managers
// that have had no connections for Options.IdleTimeout, until Close.
func (f *Factory) janitor() {
	defer close(f.janitorDone)
	t := time.NewTicker(max(f.opts.IdleTimeout/janitorDivisor, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-f.stopJanitor:
			return
		case now := <-t.C:
			f.sweep(now)
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
