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
// # Names
//
// Benchmarks are named Benchmark<Area>/<case>/<peer> so that benchstat can
// put the peers of one case side by side.
package bench
