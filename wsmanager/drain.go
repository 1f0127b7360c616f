package wsmanager

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"
)

// Default values of DrainOptions.
const (
	DefaultDrainDuration = 10 * time.Second
	DefaultDrainInterval = 100 * time.Millisecond
)

// DrainOptions configures Factory.Drain. The zero value closes every
// connection with 1012 (service restart) over 10 seconds, in batches 100
// ms apart: a node with 5,000 connections sends the rest of the cluster
// about 500 a second, 50 at a time. It is a plain value, safe to copy.
type DrainOptions struct {
	// Duration is the time over which the closes are spread: the node's
	// connections are split into Duration/Interval batches (fewer when
	// there are fewer connections than that), as equal in size as can be,
	// one batch every Duration/batches, so the other nodes receive about
	// connections/Duration reconnections a second. Defaults to
	// DefaultDrainDuration.
	Duration time.Duration
	// Interval is the shortest pause between two batches. Each pause is
	// jittered, between half and one and a half of its length, and the
	// connections are taken in a random order, so that clients that
	// connected together do not come back together. Defaults to
	// DefaultDrainInterval.
	Interval time.Duration
	// Code and Reason are the close's. Default to 1012 (CodeServiceRestart)
	// and "service restart": a client reconnects, which a load balancer
	// sends to another node, and resumes there with its position.
	Code   int
	Reason string
}

// drainState is a Factory's drain, guarded by its mu.
type drainState struct {
	on bool // refuse new connections
}

// Drain prepares this node to stop without a stampede: it refuses new
// connections (ErrDraining: NewEndpoint answers 503, the Serve methods
// close with 1013), then closes the connections it has in paced,
// jittered batches (see DrainOptions), each as Connection.Close does,
// after what was queued to it. It returns when every connection has
// finished (each Serve has returned, Options.OnDisconnect included), or
// with ctx.Err() when ctx ends first; the batches not yet closed then
// stay open, for Close to close at once.
//
// The Factory keeps refusing new connections after Drain returns, and keeps
// delivering to the connections still open; Close it once Drain has
// returned. With a Log, a client that reconnects to another node resumes
// there from its position, and misses nothing. Drain returns ErrClosed after Close, and
// an error wrapping ErrInvalidOptions for negative durations or a code
// a server may not send.
func (f *Factory) Drain(ctx context.Context, opts DrainOptions) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.drain.on = true
	var conns []*Connection
	for _, ts := range f.users {
		for m := range ts.all {
			if p := m.conns.Load(); p != nil {
				conns = append(conns, *p...)
			}
		}
	}
	f.mu.Unlock()

	rand.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	// As many batches as Duration has Intervals, but no more than there
	// are connections, as equal as can be and spread over all of
	// Duration: the pace is the connections over Duration, whatever their
	// number.
	n := len(conns)
	steps := min(max(int(opts.Duration/opts.Interval), 1), max(n, 1))
	gap := opts.Duration / time.Duration(steps)
	for i := range steps {
		for _, c := range conns[i*n/steps : (i+1)*n/steps] {
			if c.requestClose(causeClosed, opts.Code, opts.Reason, nil) {
				f.stats.drainCloses.Add(1)
			}
		}
		if i == steps-1 {
			break
		}
		pause := time.NewTimer(gap/2 + rand.N(gap))
		select {
		case <-pause.C:
		case <-ctx.Done():
			pause.Stop()
			return ctx.Err()
		}
	}
	return f.waitConns(ctx)
}

// waitConns waits until the Factory has no connection, or ctx ends.
func (f *Factory) waitConns(ctx context.Context) error {
	f.liveMu.Lock()
	if f.live == 0 {
		f.liveMu.Unlock()
		return nil
	}
	if f.drained == nil {
		f.drained = make(chan struct{})
	}
	drained := f.drained
	f.liveMu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o DrainOptions) withDefaults() (DrainOptions, error) {
	switch {
	case o.Duration < 0 || o.Interval < 0:
		return o, fmt.Errorf("%w: DrainOptions: negative Duration or Interval", ErrInvalidOptions)
	case o.Code != 0 && !validCloseCode(o.Code), len(o.Reason) > maxControlReason || !utf8.ValidString(o.Reason):
		return o, fmt.Errorf("%w: DrainOptions: close code %d or its reason is not one a server may send", ErrInvalidOptions, o.Code)
	}
	if o.Duration == 0 {
		o.Duration = DefaultDrainDuration
	}
	if o.Interval == 0 {
		o.Interval = DefaultDrainInterval
	}
	if o.Code == 0 {
		o.Code, o.Reason = CodeServiceRestart, reasonRestart
	}
	return o, nil
}
