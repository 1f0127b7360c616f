package main

import (
	"bufio"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ssotkit/ssot/bench/internal/wsresult"
)

type config struct {
	clients, messages, size int
	slow                    bool
	// idle is how many of the clients are idle (see idleParam).
	idle int
	// scale marks the run as the scale run in its results.
	scale bool
	// perProcess is the most clients one client process holds; zero means
	// no bound. Each client is a descriptor in that process, which also
	// needs a few of its own (standard streams, the runtime's poller), and
	// the limit is per process, so a run with more clients spreads them
	// over several.
	perProcess int
	// profileDir, if set, is where each server writes a CPU profile of its
	// broadcast, from the moment the clients are told it starts until they
	// all reported.
	profileDir string
	timeout    time.Duration
}

// result is one peer's line of output; cmd/benchreport reads it.
type result = wsresult.Result

func runDriver(cfg config, only string) error {
	names := peerNames()
	if only != "" {
		names = strings.Split(only, ",")
	}
	enc := json.NewEncoder(os.Stdout)
	for _, name := range names {
		r, err := runPeer(name, cfg)
		if err != nil {
			r.Error = err.Error()
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// runPeer starts the peer's server process and the client processes,
// broadcasts and collects what the clients received.
func runPeer(name string, cfg config) (result, error) {
	res := result{Peer: name, Clients: cfg.clients, Idle: cfg.idle, Messages: cfg.messages, Slow: cfg.slow, Scale: cfg.scale}
	spec, ok := lookupPeer(name)
	if !ok {
		return res, fmt.Errorf("unknown peer %q", name)
	}
	if need, limit := cfg.clients+filesReserved, fileLimit(); limit > 0 && need > limit {
		return res, fmt.Errorf("%d clients need %d descriptors in the server, and its limit is %d", cfg.clients, need, limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	env := []string{serveEnv + "=" + name}
	if cfg.profileDir != "" {
		env = append(env, profileEnv+"="+filepath.Join(cfg.profileDir, profileName(res)))
	}
	srv, err := startChild(ctx, env, "-timeout", cfg.timeout.String())
	if err != nil {
		return res, err
	}
	defer srv.stop()
	addr, err := srv.out.ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("server address: %w", err)
	}
	base := "127.0.0.1" + addr[strings.LastIndexByte(addr, ':'):len(addr)-1]
	before, err := stats(ctx, base)
	if err != nil {
		return res, err
	}

	procs := 1
	if cfg.perProcess > 0 {
		procs = max(1, (cfg.clients+cfg.perProcess-1)/cfg.perProcess)
	}
	res.ClientProcs = procs
	workers := make([]*child, 0, procs)
	defer func() {
		for _, w := range workers {
			w.stop()
		}
	}()
	for i := range procs {
		job, err := json.Marshal(clientJob{
			URL:      "ws://" + base + "/ws",
			Wire:     spec.wire,
			Clients:  cfg.clients*(i+1)/procs - cfg.clients*i/procs,
			Idle:     cfg.idle*(i+1)/procs - cfg.idle*i/procs,
			Messages: cfg.messages,
			Stuck:    cfg.slow && i == 0,
			Timeout:  cfg.timeout,
			Profile:  clientProfile(cfg, res, i),
		})
		if err != nil {
			return res, err
		}
		w, err := startChild(ctx, []string{clientsEnv + "=" + string(job)})
		if err != nil {
			return res, err
		}
		workers = append(workers, w)
	}
	for _, w := range workers {
		if line, err := w.out.ReadString('\n'); err != nil || line != "ready\n" {
			return res, fmt.Errorf("client process: %q %v", strings.TrimSpace(line), err)
		}
	}
	after, err := awaitConns(ctx, base, cfg.clients)
	if err != nil {
		return res, err
	}
	res.RSSPerConn = float64(after.RSS-before.RSS) / float64(cfg.clients)
	res.HeapPerConn = float64(after.Heap-before.Heap) / float64(cfg.clients)
	res.StackPerConn = float64(after.Stack-before.Stack) / float64(cfg.clients)
	res.HeapFreePerConn = float64(after.HeapFree-before.HeapFree) / float64(cfg.clients)
	res.SocketMemPerConn = float64(after.SocketMem-before.SocketMem) / float64(cfg.clients)
	res.Goroutines, res.GoroutinesBefore, res.Procs = after.Goroutines, before.Goroutines, after.Procs

	readers := cfg.clients - cfg.idle
	if cfg.slow {
		readers--
	}
	res.Expected = int64(readers) * int64(cfg.messages)
	if cfg.profileDir != "" {
		// What the server holds with every client connected, then what
		// it spends its CPU on during the broadcast.
		if err := get(ctx, "http://"+base+"/profile/heap", nil); err != nil {
			return res, err
		}
		if err := get(ctx, "http://"+base+"/profile/start", nil); err != nil {
			return res, err
		}
	}
	for _, w := range workers {
		if _, err := io.WriteString(w.in, "go\n"); err != nil {
			return res, err
		}
	}
	start := time.Now()
	if err := get(ctx, fmt.Sprintf("http://%s/broadcast?n=%d&size=%d", base, cfg.messages, cfg.size), nil); err != nil {
		return res, err
	}
	var lat []int64
	var last, idleDelivered int64
	for _, w := range workers {
		var rep clientReport
		if err := gob.NewDecoder(w.out).Decode(&rep); err != nil {
			return res, fmt.Errorf("client report: %w", err)
		}
		res.Delivered += rep.Delivered
		idleDelivered += rep.IdleDelivered
		last = max(last, rep.Last)
		lat = append(lat, rep.Latencies...)
	}
	if cfg.profileDir != "" {
		if err := get(ctx, "http://"+base+"/profile/stop", nil); err != nil {
			return res, err
		}
	}
	end, err := stats(ctx, base)
	if err != nil {
		return res, err
	}
	if res.Delivered > 0 {
		res.WritesPerMsg = float64(end.Writes-after.Writes) / float64(res.Delivered)
	}
	res.Seconds = time.Unix(0, last).Sub(start).Seconds()
	if res.Seconds > 0 {
		res.MsgsPerSec = float64(res.Delivered) / res.Seconds
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50Micros = float64(lat[len(lat)/2]) / 1e3
		res.P99Micros = float64(lat[len(lat)*99/100]) / 1e3
	}
	if res.Delivered < res.Expected {
		return res, fmt.Errorf("delivered %d of %d", res.Delivered, res.Expected)
	}
	if idleDelivered > 0 {
		return res, fmt.Errorf("idle clients received %d messages", idleDelivered)
	}
	return res, nil
}

// profileName is the file name of the CPU profile of the run r.
func profileName(r result) string {
	kind := ""
	switch {
	case r.Slow:
		kind = "-slow"
	case r.Scale:
		kind = "-scale"
	case r.Idle > 0:
		kind = fmt.Sprintf("-idle%d", r.Idle)
	}
	return fmt.Sprintf("%s-%d%s.pprof", r.Peer, r.Clients, kind)
}

func clientProfile(cfg config, r result, i int) string {
	if cfg.profileDir == "" {
		return ""
	}
	return filepath.Join(cfg.profileDir, fmt.Sprintf("clients%d-%s", i, profileName(r)))
}

// awaitConns polls the server until it counts n clients, which a
// broadcast then reaches, and returns its stats at that moment.
func awaitConns(ctx context.Context, base string, n int) (serverStats, error) {
	for {
		s, err := stats(ctx, base)
		if err != nil || s.Conns >= n {
			return s, err
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("%d of %d clients registered", s.Conns, n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// child is a process of this program started by the driver, as a server
// or a client process, talking over its standard input and output.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startChild starts this program again with env added to its environment.
// It ends when ctx does, or when stop closes its standard input.
func startChild(ctx context.Context, env []string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &child{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}, nil
}

// stop closes the child's standard input and waits for it to exit.
func (c *child) stop() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

func stats(ctx context.Context, base string) (serverStats, error) {
	var s serverStats
	err := get(ctx, "http://"+base+"/stats", &s)
	return s, err
}

func get(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	if into != nil {
		return json.NewDecoder(resp.Body).Decode(into)
	}
	return nil
}
