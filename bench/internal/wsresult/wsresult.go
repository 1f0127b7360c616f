// Package wsresult is the record the WebSocket harness (cmd/wsbench)
// writes for each run of a peer, one JSON object a line, and
// cmd/benchreport reads.
package wsresult

// Result is one run of the WebSocket harness for one peer.
type Result struct {
	Peer     string `json:"peer"`
	Clients  int    `json:"clients"`
	Messages int    `json:"messages"`
	// Slow marks the run with a client that never reads; Scale marks the
	// scale run.
	Slow  bool `json:"slow"`
	Scale bool `json:"scale,omitempty"`
	// Idle is how many of the Clients are idle: connected and reading,
	// never sending, left out of the broadcast. The other clients are the
	// active ones, which Expected, the rates and the latencies count.
	Idle        int `json:"idle,omitempty"`
	ClientProcs int `json:"client_procs"`
	// Expected counts the messages every reading client should receive;
	// Delivered those they did.
	Expected   int64   `json:"expected"`
	Delivered  int64   `json:"delivered"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50Micros  float64 `json:"p50_us"`
	P99Micros  float64 `json:"p99_us"`
	// RSSPerConn is the server's resident memory growth per client, in
	// bytes, each reading taken after a GC and once the runtime has
	// returned its free heap to the system (debug.FreeOSMemory).
	RSSPerConn float64 `json:"rss_per_conn_bytes"`
	// HeapPerConn and StackPerConn split the server's memory growth per
	// client, after a GC, into Go heap in use and goroutine stacks in use
	// (runtime.MemStats HeapInuse and StackInuse), in bytes; the rest of
	// RSSPerConn is what the runtime and the kernel keep besides.
	HeapPerConn  float64 `json:"heap_per_conn_bytes,omitempty"`
	StackPerConn float64 `json:"stack_per_conn_bytes,omitempty"`
	// HeapFreePerConn is the growth of the heap the runtime held free
	// after the GC without having returned it to the system, per client,
	// in bytes: resident, but in no object, until the server returns it
	// before reading RSS, so it is not in RSSPerConn.
	HeapFreePerConn float64 `json:"heap_free_per_conn_bytes,omitempty"`
	// SocketMemPerConn is the growth of the kernel's TCP socket buffer
	// memory (/proc/net/sockstat, the whole network namespace: the
	// clients' ends of the loopback connections too) over the same span,
	// per client, in bytes: memory no RSS shows.
	SocketMemPerConn float64 `json:"socket_mem_per_conn_bytes,omitempty"`
	// Goroutines is the server's runtime.NumGoroutine() with every client
	// connected and nothing being sent, GoroutinesBefore the same before
	// any client connected, and Procs the server's GOMAXPROCS.
	Goroutines       int `json:"goroutines,omitempty"`
	GoroutinesBefore int `json:"goroutines_before,omitempty"`
	Procs            int `json:"procs,omitempty"`
	// WritesPerMsg is the server's write system calls per message
	// delivered: below 1 when it writes several frames at a time.
	WritesPerMsg float64 `json:"writes_per_msg"`
	Error        string  `json:"error,omitempty"`
}
