// Command clusternode is one node of a wsmanager cluster, as a deployment
// runs it, for the rolling-deploy test of the bench module
// (TestRollingDeploy): a Factory with history over a durable Log shared by
// every node, behind NewEndpoint over the gobwasws transport, with a test
// authenticator for which a token is the user ID it names. A client
// resumes with the query parameter "resume".
//
// It prints "listening <host:port>" on standard output once it accepts
// connections. On SIGTERM (or SIGINT) it drains (Factory.Drain: its
// connections close with 1012 in paced batches, and new ones get 503),
// then shuts the HTTP server down, closes the Factory and the Log, and
// exits 0; it exits 1 when any of that fails.
//
// Usage:
//
//	clusternode -listen 127.0.0.1:0 -broker nats -url nats://127.0.0.1:4222 -drain 5s
//	clusternode -listen 127.0.0.1:0 -broker redis -url redis://127.0.0.1:6379 -drain 5s
//
// It is a test fixture, not a deployment template: its authenticator takes
// any token as a user ID.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, logger); err != nil {
		fmt.Fprintln(os.Stderr, "clusternode:", err)
		stop()
		os.Exit(1)
	}
}

// config is the node's flags.
type config struct {
	listen        string
	broker        string // "nats" or "redis": which Log
	url           string
	prefix        string
	drain         time.Duration
	drainInterval time.Duration
}

// parseFlags reads the node's flags from args, reporting errors to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("clusternode", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&c.broker, "broker", "nats", "the Log: nats (JetStream) or redis (Redis Streams)")
	fs.StringVar(&c.url, "url", "", "the broker's URL")
	fs.StringVar(&c.prefix, "prefix", "bench.rolling", "the Log's subject or key prefix, the same on every node")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "DrainOptions.Duration")
	fs.DurationVar(&c.drainInterval, "drain-interval", 0, "DrainOptions.Interval (0: wsmanager's default)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.url == "":
		err := errors.New("-url is required")
		fmt.Fprintln(out, "clusternode:", err)
		return c, err
	case c.broker != "nats" && c.broker != "redis":
		err := fmt.Errorf("-broker %q: want nats or redis", c.broker)
		fmt.Fprintln(out, "clusternode:", err)
		return c, err
	}
	return c, nil
}
