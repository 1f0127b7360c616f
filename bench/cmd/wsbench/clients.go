package main

import (
	"bufio"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// clientsEnv names the variable that makes a process a client process: its
// value is the JSON of a clientJob. Clients live in processes of their own,
// apart from the server (which then holds only its own descriptors and
// memory) and from the driver, and as many of them as the descriptor limit
// of one process requires (see config.perProcess).
const clientsEnv = "WSBENCH_CLIENTS"

// clientJob is the work of one client process.
type clientJob struct {
	URL      string `json:"url"`
	Wire     string `json:"wire"`
	Clients  int    `json:"clients"`
	Messages int    `json:"messages"`
	Stuck    bool   `json:"stuck"` // the first client never reads
	// Idle is how many of the clients, the first ones, are idle: they
	// join with idleParam in their URL and never send, and they read
	// until the end, expecting nothing.
	Idle int `json:"idle,omitempty"`
	// Profile, if set, is the file for a CPU profile of this process
	// while it receives the broadcast.
	Profile string        `json:"profile,omitempty"`
	Timeout time.Duration `json:"timeout"`
}

// clientReport is what a client process hands the driver when it is done.
type clientReport struct {
	Delivered int64
	// IdleDelivered counts the messages idle clients received: a peer
	// whose broadcast reaches them has some.
	IdleDelivered int64
	Last          int64   // when the last message arrived, Unix nanoseconds
	Latencies     []int64 // one per message delivered, nanoseconds
}

// runClients is a client process. It connects job.Clients clients and
// starts reading, then prints "ready" (or why it is not) on out; it waits
// for a line on in, the driver's word that the broadcast starts, then
// until every reading client got job.Messages messages or deliveries
// stall, and writes its clientReport to out, gob-encoded.
func runClients(jobJSON string, in io.Reader, out io.Writer) error {
	var job clientJob
	if err := json.Unmarshal([]byte(jobJSON), &job); err != nil {
		return fmt.Errorf("client job: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), job.Timeout)
	defer cancel()
	w, err := wireFor(job.Wire)
	if err != nil {
		return err
	}
	cs, err := connect(ctx, job, w)
	defer closeAll(cs)
	if err != nil {
		fmt.Fprintln(out, err)
		return err
	}

	idle, readers := cs[:job.Idle], cs[job.Idle:]
	if job.Stuck {
		readers = readers[1:]
	}
	expected := int64(len(readers)) * int64(job.Messages)
	var delivered, last atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	var idleDelivered atomic.Int64
	for _, c := range idle {
		wg.Go(func() { _ = c.readIdle(w, &idleDelivered) })
	}
	for _, c := range readers {
		wg.Go(func() {
			_ = c.read(w, job.Messages, func(now int64) {
				for l := last.Load(); now > l && !last.CompareAndSwap(l, now); l = last.Load() {
				}
				if delivered.Add(1) == expected {
					close(done)
				}
			})
		})
	}
	fmt.Fprintln(out, "ready")
	if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
		closeAll(cs)
		wg.Wait()
		return fmt.Errorf("waiting for the broadcast: %w", err)
	}
	stop, err := startProfile(job.Profile)
	if err != nil {
		return err
	}
	waitDelivered(ctx, done, &delivered)
	stop()
	closeAll(cs)
	wg.Wait()
	rep := clientReport{Delivered: delivered.Load(), IdleDelivered: idleDelivered.Load(), Last: last.Load()}
	for _, c := range readers {
		rep.Latencies = append(rep.Latencies, c.lat...)
	}
	return gob.NewEncoder(out).Encode(rep)
}

// stallLimit is how long a client process waits without a single delivery
// before it stops: a peer that dropped messages would otherwise hold the
// run until its timeout.
const stallLimit = 3 * time.Second

// waitDelivered returns when every message arrived, ctx ends, or no
// message arrived for stallLimit.
func waitDelivered(ctx context.Context, done <-chan struct{}, delivered *atomic.Int64) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	seen, since := delivered.Load(), time.Now()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if n := delivered.Load(); n != seen {
				seen, since = n, now
			} else if now.Sub(since) > stallLimit {
				return
			}
		}
	}
}

// connect dials every client, 64 at a time, and has each join as its wire
// requires. The first job.Idle clients are idle ones; with job.Stuck the
// first active client is the stuck one (see dial), never read.
func connect(ctx context.Context, job clientJob, w wire) ([]*client, error) {
	cs := make([]*client, job.Clients)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range cs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			idle := i < job.Idle
			url := job.URL
			if idle {
				url += "?" + idleParam
			}
			c, err := dial(ctx, url, job.Stuck && i == job.Idle, job.Messages)
			if err == nil {
				cs[i] = c
				err = w.join(c, idle)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return cs, fmt.Errorf("%d clients failed to connect, first: %w", len(errs), errs[0])
	}
	return cs, nil
}

func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			_ = c.nc.Close()
		}
	}
}

// wire is how a client speaks to a peer once its WebSocket is open.
type wire interface {
	// join does what the peer needs before it counts the client among
	// those a broadcast reaches, or, for an idle client, among its
	// clients at all.
	join(c *client, idle bool) error
	// receive reads one message and calls got with each payload in it.
	receive(c *client, got func(payload []byte) error) error
}

// Wire names, as peerSpec.wire and clientJob.Wire carry them.
const (
	plainWireName      = "plain"
	centrifugeWireName = "centrifuge"
)

func wireFor(name string) (wire, error) {
	switch name {
	case plainWireName:
		return plainWire{}, nil
	case centrifugeWireName:
		return centrifugeWire{}, nil
	}
	return nil, fmt.Errorf("unknown wire %q", name)
}

// plainWire is a bare WebSocket: one message a frame, nothing to join.
type plainWire struct{}

func (plainWire) join(*client, bool) error { return nil }

func (plainWire) receive(c *client, got func([]byte) error) error {
	b, err := c.next()
	if err != nil {
		return err
	}
	return got(b)
}
