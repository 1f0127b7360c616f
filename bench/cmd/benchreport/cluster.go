package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ssotkit/ssot/bench/internal/clusterresult"
)

// The targets of the cluster sections.
const (
	routedRatio     = 1.1 // a routed node receives at most this many times what it needs
	unroutedSpread  = 0.05
	acceptTolerance = 1.5 // a surviving node accepts at most this many times a drain's pace
	routingTitle    = "Cluster routing: what each node receives"
	rollingTitle    = "Rolling deploy: every node restarted under load"
)

// routingKey is one table row: a node of a cluster of one size over one
// broker.
type routingKey struct {
	broker      string
	nodes, node int
}

// writeRouting reports TestClusterRouting: for every broker and cluster
// size, what each node received against what it needed, before (every
// node subscribed to every user) and after (routed by interest). It
// returns the entry for a target this run missed, or "".
func writeRouting(w *strings.Builder, lines []clusterresult.Line) (miss string) {
	fmt.Fprintf(w, "## %s\n\n", routingTitle)
	before, after := map[routingKey]clusterresult.Routing{}, map[routingKey]clusterresult.Routing{}
	var keys []routingKey
	for _, l := range lines {
		r := l.Routing
		if r == nil {
			continue
		}
		k := routingKey{r.Broker, r.Nodes, r.Node}
		if _, ok := before[k]; !ok {
			if _, ok := after[k]; !ok {
				keys = append(keys, k)
			}
		}
		if r.Routed {
			after[k] = *r
		} else {
			before[k] = *r
		}
	}
	if len(keys) == 0 {
		fmt.Fprintf(w, "Not measured in this run.\n\n")
		return ""
	}
	order := map[string]int{"nats": 0, "jetstream": 1, "redis": 2, "redis-streams": 3}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.broker != b.broker {
			return order[a.broker] < order[b.broker]
		}
		if a.nodes != b.nodes {
			return a.nodes < b.nodes
		}
		return a.node < b.node
	})
	fmt.Fprintf(w, "N wsmanager nodes (N = 3 and 10) over one broker on 127.0.0.1, each holding its own %s; a sender node of its own sends every user the same number of messages, every user in turn (`TestClusterRouting`). ", "users, one in-memory connection each")
	fmt.Fprintf(w, "*Needed* is what a node's users are sent; *received* is what the broker sent the node: for NATS and JetStream the nats-server's own count of the messages it sent the node's connection (`Connz` OutMsgs, the connection found by its name), for Redis publish/subscribe and the Redis Streams Log the adapter's `Stats.Delivered` (Redis 7.0 keeps no message count per client). ")
	fmt.Fprintf(w, "*Before* is the adapter hidden behind a plain `wsmanager.Broker` (or `wsmanager.Log`), so the Factory subscribes to every user, as it did before interest routing; *after* is the adapter as it is, a `Router` (or `LogRouter`). ")
	fmt.Fprintf(w, "Through JetStream the server's count also holds the replies to the node's API requests: one when the Log connects and two for each user it adds.\n\n")
	fmt.Fprintf(w, "Target: after, every node receives at most %.1f× what it needs; before, about N× (within %.0f%%).\n\n", routedRatio, unroutedSpread*100)
	fmt.Fprintf(w, "| broker | N | node | needed | before: received | before ratio | after: received | after ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	worstAfter := map[string]float64{}
	var groups []string
	beforeOK := true
	cell := func(r clusterresult.Routing, ok bool) (string, string) {
		if !ok {
			return "—", "—"
		}
		return fmt.Sprint(r.Received), fmt.Sprintf("%.2f×", r.Ratio())
	}
	for _, k := range keys {
		b, bok := before[k]
		a, aok := after[k]
		needed := b.Needed
		if aok {
			needed = a.Needed
		}
		br, bratio := cell(b, bok)
		ar, aratio := cell(a, aok)
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %s | %s | %s |\n", k.broker, k.nodes, k.node, needed, br, bratio, ar, aratio)
		group := fmt.Sprintf("%s, N = %d", k.broker, k.nodes)
		if _, ok := worstAfter[group]; !ok && aok {
			groups = append(groups, group)
		}
		if aok {
			worstAfter[group] = max(worstAfter[group], a.Ratio())
		}
		if bok {
			n := float64(k.nodes)
			if r := b.Ratio(); r < (1-unroutedSpread)*n || r > (1+unroutedSpread)*n {
				beforeOK = false
			}
		}
	}
	fmt.Fprintln(w)
	afterOK := true
	for _, g := range groups {
		r := worstAfter[g]
		ok := r > 0 && r <= routedRatio
		afterOK = afterOK && ok
		fmt.Fprintf(w, "- %s, after: target %s (the most any node received is %.2f× what it needs)\n", g, verdictMark(ok), r)
	}
	fmt.Fprintf(w, "- before: every node received about N× what it needs: %s\n\n", verdictMark(beforeOK))
	writeRoutingServer(w, lines)
	if !afterOK || !beforeOK {
		return unexplained(routingTitle)
	}
	return ""
}

// writeRoutingServer reports what a server that counts no messages per
// client (Redis) says it sent all of its clients, the sender included,
// while each run sent its messages, before and after.
func writeRoutingServer(w *strings.Builder, lines []clusterresult.Line) {
	type key struct {
		broker string
		nodes  int
	}
	before, after := map[key]int64{}, map[key]int64{}
	var keys []key
	for _, l := range lines {
		r := l.RoutingServer
		if r == nil {
			continue
		}
		k := key{r.Broker, r.Nodes}
		_, b := before[k]
		_, a := after[k]
		if !a && !b {
			keys = append(keys, k)
		}
		if r.Routed {
			after[k] = r.OutBytes
		} else {
			before[k] = r.OutBytes
		}
	}
	if len(keys) == 0 {
		return
	}
	fmt.Fprintf(w, "What redis-server itself reports: the growth of `INFO stats` `total_net_output_bytes` while the messages were sent, everything it sent every client (the nodes, and the sender its replies). Before, a node's messages also carry the pattern it subscribed with.\n\n")
	fmt.Fprintf(w, "| broker | N | before: bytes sent | after: bytes sent | before / after |\n|---|---:|---:|---:|---:|\n")
	for _, k := range keys {
		ratio := "—"
		if before[k] > 0 && after[k] > 0 {
			ratio = fmt.Sprintf("%.2f×", float64(before[k])/float64(after[k]))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s |\n", k.broker, k.nodes, before[k], after[k], ratio)
	}
	fmt.Fprintln(w)
}

// writeRolling reports TestRollingDeploy: each Log's run, with its
// deliveries, its losses, the accept rate the surviving nodes saw and the
// delivery latency. It returns the entry for a target this run missed, or
// "".
func writeRolling(w *strings.Builder, lines []clusterresult.Line) (miss string) {
	fmt.Fprintf(w, "## %s\n\n", rollingTitle)
	var runs []clusterresult.Rolling
	for _, l := range lines {
		if l.Rolling != nil {
			runs = append(runs, *l.Rolling)
		}
	}
	if len(runs) == 0 {
		fmt.Fprintf(w, "Not measured in this run.\n\n")
		return ""
	}
	fmt.Fprintf(w, "Node processes (`bench/cmd/clusternode`: a Factory with history over the Log, `NewEndpoint` over gobwasws, and on SIGTERM `Drain`, `http.Server.Shutdown`, `Factory.Close`, the Log's `Close`) behind real WebSocket clients on 127.0.0.1, one user each, spread over the nodes; ")
	fmt.Fprintf(w, "a sender in the test process calls `SendToUser` at a fixed rate, every user in turn, through the same Log; then every node is restarted in turn (SIGTERM, wait for it to exit, start it again, wait until it listens) (`TestRollingDeploy`). ")
	fmt.Fprintf(w, "A client keeps the position of the last message it handled and, when its connection closes, reconnects after a full-jitter backoff to another live node with `?resume=<position>`. ")
	fmt.Fprintf(w, "A drain's pace is the connections the draining node held over the drain duration, per second; the accept rate is counted by the driver from the clients' connect times, per surviving node, in every 1-second window (sliding) of the drain. Latency is from `SendToUser` to the client's read, replays included; total is from the sender's first message to the last client's last.\n\n")
	fmt.Fprintf(w, "Target: every message of every user reaches its client exactly once and in order (no duplicate, no loss, no reset on a reconnection), and no surviving node accepts more than %.1f× the drain's pace in any window (the drain spreads its batches with jitter, and the clients' backoff adds its own).\n\n", acceptTolerance)
	fmt.Fprintf(w, "| log | clients | nodes | drain | sent/s | sent | received | duplicates | lost | resets on reconnect | reconnects | max accepts/s on a node | pace/s | ratio | p50 | p99 | total |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	missed := false
	var verdicts []string
	for _, r := range runs {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f s | %s | %d | %d | %d | %d | %d | %d | %s | %s | %.2f× | %s ms | %s ms | %.1f s |\n",
			r.Log, r.Clients, r.Nodes, r.DrainSeconds, num(r.RatePerSecond), r.Messages, r.Received, r.Duplicates, r.Lost, r.UnexpectedResets, r.Reconnects,
			num(r.MaxAcceptPerSec), num(r.PacePerSec), r.MaxAcceptRatio, num(r.P50Millis), num(r.P99Millis), r.Seconds)
		exact := r.Error == "" && r.Duplicates == 0 && r.Lost == 0 && r.UnexpectedResets == 0 && r.Received == r.Messages
		paced := r.MaxAcceptRatio <= acceptTolerance
		missed = missed || !exact || !paced
		v := fmt.Sprintf("- %s, %d clients: exactly once and in order: %s; accept rate within %.1f× the pace: %s", r.Log, r.Clients, verdictMark(exact), acceptTolerance, verdictMark(paced))
		if r.Error != "" {
			v += " (" + r.Error + ")"
		}
		verdicts = append(verdicts, v)
	}
	fmt.Fprintf(w, "\n%s\n\n", strings.Join(verdicts, "\n"))
	if missed {
		return unexplained(rollingTitle)
	}
	return ""
}
