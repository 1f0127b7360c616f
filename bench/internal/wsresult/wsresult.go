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
	Slow        bool `json:"slow"`
	Scale       bool `json:"scale,omitempty"`
	ClientProcs int  `json:"client_procs"`
	// Expected counts the messages every reading client should receive;
	// Delivered those they did.
	Expected   int64   `json:"expected"`
	Delivered  int64   `json:"delivered"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50Micros  float64 `json:"p50_us"`
	P99Micros  float64 `json:"p99_us"`
	// RSSPerConn is the server's resident memory growth per client, in
	// bytes.
	RSSPerConn float64 `json:"rss_per_conn_bytes"`
	// HeapPerConn and StackPerConn split the server's memory growth per
	// client, after a GC, into Go heap in use and goroutine stacks in use
	// (runtime.MemStats HeapInuse and StackInuse), in bytes; the rest of
	// RSSPerConn is what the runtime and the kernel keep besides.
	HeapPerConn  float64 `json:"heap_per_conn_bytes,omitempty"`
	StackPerConn float64 `json:"stack_per_conn_bytes,omitempty"`
	// WritesPerMsg is the server's write system calls per message
	// delivered: below 1 when it writes several frames at a time.
	WritesPerMsg float64 `json:"writes_per_msg"`
	Error        string  `json:"error,omitempty"`
}
