package main

import (
	"net/http"
	"os"
	"strconv"
	"strings"
)

// idleParam is the query parameter that marks a client idle: it connects,
// reads, and never sends anything, and every peer leaves it out of its
// broadcasts, in whatever way is cheapest for that peer (a ThreadID and
// Broadcast's filter, a session key, a set of its own, a channel it never
// subscribes to). A run with -idle measures what holding such clients
// costs a server beside the active ones.
const idleParam = "idle"

// isIdle reports whether the client of r is an idle one.
func isIdle(r *http.Request) bool { return r.URL.Query().Has(idleParam) }

// tcpSocketMemory is the memory, in bytes, the kernel holds for the
// buffers of every TCP socket of this network namespace ("TCP: … mem" in
// /proc/net/sockstat, in pages), both ends of a loopback connection
// included: memory no process's RSS shows.
func tcpSocketMemory() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "TCP:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			if f[i] == "mem" {
				n, _ := strconv.ParseInt(f[i+1], 10, 64)
				return n * int64(os.Getpagesize())
			}
		}
	}
	return 0
}
