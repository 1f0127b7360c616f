// Package bench measures ssot side by side with the libraries a user would
// pick instead, on the same machine and in the same run.
//
// It is its own module so that the peers it imports never enter the
// library's go.mod. Run everything with ./run (make bench at the repository
// root); it writes BENCHMARKS.md.
//
// # Layout
//
// Each area has one file of peer benchmarks (<area>_peers_test.go) and one
// of ssot benchmarks (<area>_ssot_test.go), which the peer file's Benchmark
// function calls, so both sides of a comparison share one workload and one
// benchstat group. Tests beside the benchmarks check that each side does the
// work the benchmark claims (the same walk, the same decoded fields, the
// handler reached, a cache hit that skips the backend, a breaker that fails
// closed), so a figure never measures an error path. cmd/wsbench is the
// multi-process WebSocket harness and cmd/benchreport writes BENCHMARKS.md
// from both.
//
// # Clusters
//
// The cross-node benchmarks (the fan-out through each broker, the logs at
// broker speed: BenchmarkInterestFanout, BenchmarkRedisInterest) run
// wsmanager nodes over a real in-process nats-server and a real
// redis-server on 127.0.0.1. Two tests measure what a cluster does rather
// than how fast: TestClusterRouting counts, for 3 and 10 nodes, what the
// broker sends each node against what its users need, with and without
// routing by interest; TestRollingDeploy restarts, one by one, real node
// processes (cmd/clusternode) under real WebSocket clients that resume on
// the other nodes, and checks every message arrives once, in order, and the
// drain's pace. Both run in a short form under go test, and in full (with
// CLUSTER_RESULTS and ROLLING_CLIENTS set) from ./run for BENCHMARKS.md.
// TestDisconnectUserAcrossNodes times DisconnectUser across three nodes
// over each broker.
//
// # Names
//
// Benchmarks are named Benchmark<Area>/<case>/<peer> so that benchstat can
// put the peers of one case side by side.
package bench
