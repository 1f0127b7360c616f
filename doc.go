// Package ssot is the root of a set of single-source-of-truth building blocks
// for Go services that hold long-lived, per-user connections: chat, agents,
// live dashboards. Each block is the one correct implementation of something
// such services otherwise rewrite, subtly differently, in several places.
//
// This package holds this overview and one function, [Shutdown], which
// stops the parts of the golden path in the order that loses nothing.
//
// # The golden path
//
// A request travels through the blocks in one direction:
//
//	env → middleware → auth → wsmanager → statemachine
//
// Open the package for the job at hand:
//
//   - [github.com/ssotkit/ssot/env] reads configuration once into an
//     immutable Env value (OS environment layered over a .env file), decodes
//     it into a struct and reports every missing or invalid key at start-up,
//     without ever printing a value.
//   - [github.com/ssotkit/ssot/middleware] wraps HTTP handlers in an explicit,
//     validated order (recover, request id, session, auth): the first
//     middleware is the outermost, and a wrong order is an error at start-up.
//   - [github.com/ssotkit/ssot/auth] turns a token into an Identity through one
//     cached, deduplicated path with a circuit breaker that fails closed.
//   - [github.com/ssotkit/ssot/wsmanager] upgrades a WebSocket, finds the
//     user's isolated Manager, and serves the connection with a bounded,
//     per-connection queue, so one slow client never stalls another and one
//     user's messages never reach another user.
//   - [github.com/ssotkit/ssot/statemachine] gates each connection: a typed,
//     lock-free-to-read state machine that the manager drives from Connecting
//     to ProcessingReady, so nothing is written before the connection is ready
//     and nothing queued before then is lost.
//
// # Guarantees
//
// The library module depends on the standard library only. No package keeps
// package-level mutable state or runs init functions; a test in this package
// parses every source file and enforces both. Constructors validate their
// options and return errors wrapping package sentinels, so a misconfigured
// service fails at start-up, not at 3 a.m. No error, log line or String method
// prints a token, secret or environment value.
package ssot
