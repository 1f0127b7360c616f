package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/ssotkit/ssot/env"
)

func main() {
	envFile, mustExist, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2) // the flag package printed the problem and the usage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e, err := loadEnv(envFile, mustExist)
	if err == nil {
		err = run(ctx, e, os.Stderr, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// defaultEnvFile is the dotenv file read when -env-file is not given,
// relative to the working directory; it may be absent.
const defaultEnvFile = ".env"

// parseFlags returns the dotenv file to read and whether it must exist: a
// file named with -env-file must, the default one need not.
func parseFlags(args []string) (envFile string, mustExist bool, err error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.StringVar(&envFile, "env-file", defaultEnvFile,
		"dotenv `file` layered under the process environment; a file named here must exist, while the default, "+
			defaultEnvFile+" in the working directory, may be absent; \"\" reads none")
	if err := fs.Parse(args); err != nil {
		return "", false, err
	}
	fs.Visit(func(f *flag.Flag) { mustExist = mustExist || f.Name == "env-file" })
	return envFile, mustExist, nil
}

// run loads the configuration from e, listens and serves until ctx ends,
// logging to logs at LOG_LEVEL. ready, if not nil, receives the listening
// address once connections are accepted.
func run(ctx context.Context, e env.Env, logs io.Writer, ready func(net.Addr)) error {
	return runWith(ctx, e, logs, ready, hooks{})
}

func runWith(ctx context.Context, e env.Env, logs io.Writer, ready func(net.Addr), h hooks) error {
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
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
