package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/ssotkit/ssot/contrib/natsbroker"
	"github.com/ssotkit/ssot/contrib/prommetrics"
	"github.com/ssotkit/ssot/contrib/redisbroker"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/wsmanager"
)

// The broker prefixes of a cluster: direct messages travel to users, room
// messages to the rooms' relays (see rooms.go).
const (
	usersPrefix = "chat.users"
	roomsPrefix = "chat.rooms"
)

// brokerKind is the kind of CHAT_BROKER: "nats", "redis", or "" for none.
func brokerKind(brokerURL string) string {
	u, err := url.Parse(brokerURL)
	if err != nil {
		return "invalid"
	}
	switch u.Scheme {
	case "nats", "tls":
		return "nats"
	case "redis", "rediss":
		return "redis"
	}
	return "invalid"
}

// validateBroker checks CHAT_BROKER and CHAT_BROKER_KEY.
func (c *settings) validateBroker() []error {
	var p []error
	if c.Broker != "" && brokerKind(c.Broker) == "invalid" {
		p = append(p, problem(env.ErrInvalidValue, "CHAT_BROKER", "must be a nats://, tls://, redis:// or rediss:// URL"))
	}
	switch {
	case c.BrokerKey != "" && len(c.BrokerKey) < wsmanager.MinBrokerKeyLen:
		p = append(p, problem(env.ErrInvalidValue, "CHAT_BROKER_KEY", fmt.Sprintf("must be at least %d bytes", wsmanager.MinBrokerKeyLen)))
	case c.BrokerKey != "" && c.Broker == "":
		p = append(p, problem(env.ErrInvalidValue, "CHAT_BROKER_KEY", "set without CHAT_BROKER"))
	case c.BrokerKey == "" && c.Broker != "" && c.Environment != env.Development:
		p = append(p, problem(env.ErrMissing, "CHAT_BROKER_KEY", "required with CHAT_BROKER outside development, so that only the nodes can deliver messages"))
	}
	return p
}

// broker is one connection to the cluster's broker, with what the service
// reads from it.
type broker struct {
	wsmanager.Broker
	kind      string // "nats" or "redis"
	stats     func() prommetrics.BrokerStats
	connected func() bool
	close     func(context.Context) error
}

// connectBroker connects to the broker at brokerURL under prefix. Its
// errors never quote the URL, which may hold a password.
func connectBroker(brokerURL, prefix string, logger *slog.Logger) (*broker, error) {
	switch brokerKind(brokerURL) {
	case "nats":
		b, err := natsbroker.Connect(brokerURL, natsbroker.Options{Prefix: prefix, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("chat: CHAT_BROKER: %w", err)
		}
		return &broker{Broker: b, kind: "nats", stats: func() prommetrics.BrokerStats { return prommetrics.BrokerStats(b.Stats()) }, connected: b.Connected, close: b.Close}, nil
	case "redis":
		b, err := redisbroker.Connect(brokerURL, redisbroker.Options{Prefix: prefix, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("chat: CHAT_BROKER: %w", err)
		}
		return &broker{Broker: b, kind: "redis", stats: func() prommetrics.BrokerStats { return prommetrics.BrokerStats(b.Stats()) }, connected: b.Connected, close: b.Close}, nil
	}
	return nil, errors.New("chat: CHAT_BROKER: unsupported scheme")
}
