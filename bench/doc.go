// Package bench measures ssot side by side with the libraries a user would
// pick instead, on the same machine and in the same run.
//
// It is its own module so that the peers it imports never enter the
// library's go.mod. Run everything with ./run (make bench at the repository
// root); it writes BENCHMARKS.md.
//
// # Layout
//
// Each area has one file of peer benchmarks, compiled always, and one file
// of ssot benchmarks guarded by a build tag named after the package
// (with_statemachine, with_env, with_middleware, with_auth, with_wsmanager).
// ./run turns a tag on once the package it needs exists, so this module
// builds and tests at every stage of the library.
//
// # Names
//
// Benchmarks are named Benchmark<Area>/<case>/<peer> so that benchstat can
// put the peers of one case side by side.
package bench
