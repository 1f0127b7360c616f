// Command wsbench measures WebSocket broadcast over loopback for one peer
// per process: ssot's wsmanager over several transports, olahol/melody,
// the gorilla/websocket chat hub pattern, centrifuge, a raw
// coder/websocket write loop with no manager, and a near-limit reference
// (gobwas/ws framing, one writev per connection).
//
// Run without WSBENCH_SERVE or WSBENCH_CLIENTS in its environment it is the
// driver: for each peer it starts itself again as the server of that peer,
// so every server's memory is its own, and as client processes, at most
// -per-process clients each, which connect and receive; then it asks the
// server to broadcast and prints one JSON line of results per peer.
// Everything stays on 127.0.0.1, and every run is bounded by -timeout.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	clients := flag.Int("clients", 1000, "WebSocket clients")
	messages := flag.Int("messages", 100, "broadcast messages")
	size := flag.Int("size", 64, fmt.Sprintf("bytes per message (at least %d: the send time)", minSize))
	slow := flag.Bool("slow", false, "one client never reads and has a tiny receive buffer")
	scale := flag.Bool("scale", false, "mark the results as the scale run")
	idle := flag.Int("idle", 0, "of the clients, how many are idle: connected and reading, never sending, left out of the broadcast")
	perProcess := flag.Int("per-process", 10000, "most clients in one client process (0: no bound)")
	profile := flag.String("profile", "", "directory for a CPU profile of each server's broadcast")
	timeout := flag.Duration("timeout", 90*time.Second, "bound on one peer's run")
	peers := flag.String("peers", "", "comma-separated peers (default: all built in)")
	flag.Parse()
	raiseFileLimit()
	ran, err := runAsChild(*timeout)
	if !ran && (*idle < 0 || *idle >= *clients || *idle > 0 && *slow) {
		err = fmt.Errorf("-idle %d: want 0 to %d idle clients, and no -slow with them", *idle, *clients-1)
	} else if !ran {
		err = runDriver(config{
			clients: *clients, messages: *messages, size: max(*size, minSize),
			slow: *slow, scale: *scale, idle: *idle, perProcess: *perProcess, profileDir: *profile, timeout: *timeout,
		}, *peers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

// serveEnv names the variable that makes a process the server of the peer
// it names.
const serveEnv = "WSBENCH_SERVE"

// runAsChild runs this process as the server or as a client process when
// the driver started it as one, and reports whether it did. A test binary
// calls it from TestMain, so it needs no flag.
func runAsChild(timeout time.Duration) (bool, error) {
	if name := os.Getenv(serveEnv); name != "" {
		return true, runServer(name, timeout)
	}
	if job := os.Getenv(clientsEnv); job != "" {
		return true, runClients(job, os.Stdin, os.Stdout)
	}
	return false, nil
}

// raiseFileLimit lifts the soft file limit to the hard one, as every
// client and every server connection is a descriptor, and where the
// process may raise the hard limit too (with CAP_SYS_RESOURCE) it lifts
// both to wantFiles.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Max < wantFiles && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: wantFiles, Max: wantFiles}) == nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// fileLimit is this process's descriptor limit, which the servers it
// starts share: they raise theirs as it did. Zero means unknown.
func fileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	return int(min(l.Cur, 1<<30))
}

// filesReserved is what a server keeps of its descriptor limit for its
// own: standard streams, its listener, the runtime's poller and the
// driver's connections.
const filesReserved = 64

// wantFiles is the descriptor limit raiseFileLimit asks for: the scale
// run's clients, and room besides.
const wantFiles = 1 << 16
