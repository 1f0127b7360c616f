package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/wsmanager"
)

// nodeLog is what the node needs of a Log adapter.
type nodeLog interface {
	wsmanager.Log
	Close(context.Context) error
}

// openLog connects the Log cfg names.
func openLog(cfg config, logger *slog.Logger) (nodeLog, error) {
	switch cfg.broker {
	case "nats":
		l, err := natsbroker.ConnectLog(cfg.url, natsbroker.LogOptions{Options: natsbroker.Options{Prefix: cfg.prefix, Logger: logger}}, nats.Name("clusternode"))
		if err != nil {
			return nil, fmt.Errorf("jetstream log: %w", err)
		}
		return l, nil
	case "redis":
		b, err := redisbroker.Connect(cfg.url, redisbroker.Options{Prefix: cfg.prefix, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("redis broker: %w", err)
		}
		l, err := redisbroker.NewLog(b, redisbroker.LogOptions{})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("redis streams log: %w", err), b.Close(context.Background()))
		}
		return l, nil
	}
	return nil, fmt.Errorf("log %q is not available", cfg.broker)
}

func closeLog(l nodeLog) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		return fmt.Errorf("log close: %w", err)
	}
	return nil
}
