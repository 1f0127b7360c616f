package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/ssotkit/ssot/env"
)

func main() {
	envFile := flag.String("env-file", ".env", "dotenv file layered under the process environment; missing is fine")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	e, err := loadEnv(*envFile)
	if err == nil {
		err = run(ctx, e, logger, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run loads the configuration from e, listens and serves until ctx ends.
// ready, if not nil, receives the listening address once connections are
// accepted.
func run(ctx context.Context, e env.Env, logger *slog.Logger, ready func(net.Addr)) error {
	return runWith(ctx, e, logger, ready, hooks{})
}

func runWith(ctx context.Context, e env.Env, logger *slog.Logger, ready func(net.Addr), h hooks) error {
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, e, logger, h)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = a.Close(ctx)
		return fmt.Errorf("chat: listen: %w", err)
	}
	logger.Info("chat: listening",
		"url", "http://"+ln.Addr().String(),
		"environment", cfg.Environment.String(),
		"dev_login", a.signer != nil)
	if ready != nil {
		ready(ln.Addr())
	}
	return a.serve(ctx, ln)
}
