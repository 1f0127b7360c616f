// Package clusterresult is the record the cluster tests of the bench
// module (TestClusterRouting, TestRollingDeploy) write, one JSON object a
// line, when CLUSTER_RESULTS names a file, and cmd/benchreport reads.
package clusterresult

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Line is one line of the file: exactly one of its fields is set.
type Line struct {
	Routing       *Routing       `json:"routing,omitempty"`
	RoutingServer *RoutingServer `json:"routing_server,omitempty"`
	Rolling       *Rolling       `json:"rolling,omitempty"`
}

// Routing is one node's row of the routing table: what the broker sent
// the node and what the node needed, in one run of N nodes.
type Routing struct {
	// Broker is "nats" (NATS core), "jetstream" (a JetStream Log) or
	// "redis" (Redis publish/subscribe).
	Broker string `json:"broker"`
	Nodes  int    `json:"nodes"`
	// Routed is false for "before", the adapter hidden behind a plain
	// Broker (or Log) so that every node subscribes to every user, and
	// true for "after", the adapter as it is: a Router (or LogRouter).
	Routed bool `json:"routed"`
	Node   int  `json:"node"`
	// Received is what the broker sent the node: the server's own count
	// for the node's connection where it keeps one (Source says which),
	// the adapter's Stats.Delivered otherwise.
	Received int64  `json:"received"`
	Source   string `json:"source"`
	// Delivered is the adapter's own Stats.Delivered, the messages it
	// handed to the node's Factory.
	Delivered int64 `json:"delivered"`
	// Needed is the messages addressed to the users the node holds.
	Needed int64 `json:"needed"`
}

// Ratio is Received over Needed.
func (r Routing) Ratio() float64 {
	if r.Needed == 0 {
		return 0
	}
	return float64(r.Received) / float64(r.Needed)
}

// RoutingServer is what the broker's server reports it sent all of its
// clients, the nodes and the sender, while one run of the routing table
// sent its messages: for a server that counts nothing per client (Redis).
type RoutingServer struct {
	Broker string `json:"broker"`
	Nodes  int    `json:"nodes"`
	Routed bool   `json:"routed"`
	// OutBytes is the growth of the server's count over the sends, and
	// Source names the count.
	OutBytes int64  `json:"out_bytes"`
	Source   string `json:"source"`
}

// Rolling is one rolling deploy: every node of a cluster restarted in turn
// under a steady sender, with real WebSocket clients reconnecting and
// resuming.
type Rolling struct {
	// Log is "jetstream" or "redis-streams".
	Log           string  `json:"log"`
	Nodes         int     `json:"nodes"`
	Clients       int     `json:"clients"`
	DrainSeconds  float64 `json:"drain_seconds"`
	RatePerSecond float64 `json:"rate_per_second"`
	// Messages is how many the sender sent, Received how many the clients
	// handled (each once), Duplicates and Lost what they got twice and
	// never got, UnexpectedResets the resets a client got on a
	// reconnection, and Reconnects the connections made after the first.
	Messages         int64 `json:"messages"`
	Received         int64 `json:"received"`
	Duplicates       int64 `json:"duplicates"`
	Lost             int64 `json:"lost"`
	UnexpectedResets int64 `json:"unexpected_resets"`
	Reconnects       int64 `json:"reconnects"`
	// MaxAcceptRatio is the highest ratio, over every surviving node and
	// 1-second window of a drain, of the connections the node accepted to
	// the drain's pace (the connections the draining node held over the
	// drain duration, per second); MaxAcceptPerSec is that window's count
	// and PacePerSec that pace.
	MaxAcceptRatio  float64 `json:"max_accept_ratio"`
	MaxAcceptPerSec float64 `json:"max_accept_per_sec"`
	PacePerSec      float64 `json:"pace_per_sec"`
	// P50Millis and P99Millis are the delivery latencies, SendToUser to
	// the client's read, of the messages delivered live or replayed.
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
	Seconds   float64 `json:"seconds"`
	Error     string  `json:"error,omitempty"`
}

var mu sync.Mutex

// Append writes l as one line at the end of the file at path.
func Append(path string, l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Parse reads every line of a file Append wrote.
func Parse(b []byte) ([]Line, error) {
	var out []Line
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var l Line
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("cluster line %d: %w", i+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}
