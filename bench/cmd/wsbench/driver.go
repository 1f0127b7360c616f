package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

type config struct {
	clients, messages, size int
	slow                    bool
	timeout                 time.Duration
}

// result is one peer's line of output; cmd/benchreport reads it.
type result struct {
	Peer       string  `json:"peer"`
	Clients    int     `json:"clients"`
	Messages   int     `json:"messages"`
	Slow       bool    `json:"slow"`
	Expected   int64   `json:"expected"`
	Delivered  int64   `json:"delivered"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50Micros  float64 `json:"p50_us"`
	P99Micros  float64 `json:"p99_us"`
	RSSPerConn float64 `json:"rss_per_conn_bytes"`
	Error      string  `json:"error,omitempty"`
}

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

// runPeer starts the peer's server process, connects the clients,
// broadcasts and collects what the clients received.
func runPeer(name string, cfg config) (result, error) {
	res := result{Peer: name, Clients: cfg.clients, Messages: cfg.messages, Slow: cfg.slow}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve", name, "-timeout", cfg.timeout.String())
	cmd.Env = append(os.Environ(), serveEnv+"="+name)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("server address: %w", err)
	}
	base := "127.0.0.1" + addr[strings.LastIndexByte(addr, ':'):len(addr)-1]

	before, err := stats(ctx, base)
	if err != nil {
		return res, err
	}
	cs, err := connect(ctx, base, cfg)
	defer func() {
		for _, c := range cs {
			if c != nil {
				_ = c.conn.CloseNow()
			}
		}
	}()
	if err != nil {
		return res, err
	}
	var after serverStats
	for after.Conns < cfg.clients {
		if after, err = stats(ctx, base); err != nil {
			return res, err
		}
		if after.Conns < cfg.clients {
			select {
			case <-ctx.Done():
				return res, fmt.Errorf("%d of %d clients registered", after.Conns, cfg.clients)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	res.RSSPerConn = float64(after.RSS-before.RSS) / float64(cfg.clients)

	readers := cs
	if cfg.slow {
		readers = cs[1:]
	}
	res.Expected = int64(len(readers)) * int64(cfg.messages)
	var delivered atomic.Int64
	var last atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range readers {
		wg.Go(func() {
			for range cfg.messages {
				_, b, err := c.conn.Read(ctx)
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				c.lat = append(c.lat, now-int64(binary.LittleEndian.Uint64(b)))
				last.Store(max(last.Load(), now))
				if delivered.Add(1) == res.Expected {
					close(done)
				}
			}
		})
	}
	start := time.Now()
	if err := get(ctx, fmt.Sprintf("http://%s/broadcast?n=%d&size=%d", base, cfg.messages, cfg.size), nil); err != nil {
		return res, err
	}
	waitDelivered(ctx, done, &delivered)
	for _, c := range cs {
		_ = c.conn.CloseNow()
	}
	wg.Wait()
	res.Delivered = delivered.Load()
	end := time.Unix(0, last.Load())
	res.Seconds = end.Sub(start).Seconds()
	if res.Seconds > 0 {
		res.MsgsPerSec = float64(res.Delivered) / res.Seconds
	}
	var lat []int64
	for _, c := range readers {
		lat = append(lat, c.lat...)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50Micros = float64(lat[len(lat)/2]) / 1e3
		res.P99Micros = float64(lat[len(lat)*99/100]) / 1e3
	}
	if res.Delivered < res.Expected {
		return res, fmt.Errorf("delivered %d of %d", res.Delivered, res.Expected)
	}
	return res, nil
}

// stallLimit is how long the driver waits without a single delivery before
// it stops: a peer that dropped messages would otherwise hold the run until
// its timeout.
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

type client struct {
	conn *websocket.Conn
	lat  []int64
}

// connect dials every client, 64 at a time. With cfg.slow the first client
// has a 4 KiB receive buffer and is never read, so its server side backs up.
func connect(ctx context.Context, base string, cfg config) ([]*client, error) {
	cs := make([]*client, cfg.clients)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range cs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			opts := &websocket.DialOptions{}
			if cfg.slow && i == 0 {
				opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: smallBufferDialer().DialContext}}
			}
			c, _, err := websocket.Dial(ctx, "ws://"+base+"/ws", opts)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			c.SetReadLimit(1 << 20)
			cs[i] = &client{conn: c, lat: make([]int64, 0, cfg.messages)}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return cs, fmt.Errorf("%d clients failed to connect, first: %w", len(errs), errs[0])
	}
	return cs, nil
}

func smallBufferDialer() *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
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
