// Command wsbench measures WebSocket broadcast over loopback for one peer
// per process: ssot's wsmanager, olahol/melody, the gorilla/websocket chat
// hub pattern and a raw coder/websocket write loop with no manager.
//
// Run without -serve it is the driver: for each peer it starts itself again
// as a server (-serve PEER) so every server's memory is its own, connects
// the clients from this process, asks the server to broadcast, and prints
// one JSON line of results per peer. Everything stays on 127.0.0.1, and
// every run is bounded by -timeout.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	serve := flag.String("serve", "", "run as the server of this peer (internal)")
	clients := flag.Int("clients", 1000, "WebSocket clients")
	messages := flag.Int("messages", 100, "broadcast messages")
	size := flag.Int("size", 64, "bytes per message (at least 8: the send time)")
	slow := flag.Bool("slow", false, "one client never reads and has a tiny receive buffer")
	timeout := flag.Duration("timeout", 90*time.Second, "bound on one peer's run")
	peers := flag.String("peers", "", "comma-separated peers (default: all built in)")
	flag.Parse()
	raiseFileLimit()
	var err error
	if v := os.Getenv(serveEnv); v != "" {
		*serve = v
	}
	if *serve != "" {
		err = runServer(*serve, *timeout)
	} else {
		err = runDriver(config{clients: *clients, messages: *messages, size: max(*size, 8), slow: *slow, timeout: *timeout}, *peers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

// serveEnv names the variable that makes a process the server of a peer,
// so a test binary can serve too without knowing the -serve flag.
const serveEnv = "WSBENCH_SERVE"

// raiseFileLimit lifts the soft file limit to the hard one: every client
// and every server connection is a descriptor.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
