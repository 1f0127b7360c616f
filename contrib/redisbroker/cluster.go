package redisbroker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewCluster returns a Broker on an existing Redis Cluster client, which
// the caller keeps owning: Close does not close it. It needs Redis 7's
// sharded publish/subscribe: Publish runs SPUBLISH, and SubscribeUsers
// subscribes with SSUBSCRIBE on the master that serves each user's
// channel, so that a message travels through that master alone. Subscribe
// (every user's messages) is not available on a Cluster and returns an
// error wrapping errors.ErrUnsupported.
//
// The client must not retry or redirect commands
// (redis.ClusterOptions.MaxRetries and MaxRedirects -1): a PUBLISH retried
// after its first try reached Redis delivers the message twice. A command
// sent to a master that no longer serves its slot fails, and the client
// learns the new layout before the next. NewCluster returns
// ErrInvalidOptions for a nil client, one that retries or redirects, or a
// prefix holding '{' or '}', which would move the channels' hash slots.
func NewCluster(client *redis.ClusterClient, opts Options) (*Broker, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil Redis Cluster client", ErrInvalidOptions)
	}
	if o := client.Options(); o.MaxRetries > 0 || o.MaxRedirects > 0 {
		return nil, fmt.Errorf("%w: the client retries or redirects commands, which can publish a message twice; set MaxRetries and MaxRedirects to -1", ErrInvalidOptions)
	}
	opts, err := withClusterDefaults(opts)
	if err != nil {
		return nil, err
	}
	return newBroker(nil, client, false, opts), nil
}

// ConnectCluster connects to the Redis Cluster whose nodes include addrs
// (host:port; one reachable node suffices to learn the others), checks
// with a PING to every master that the cluster answers, and returns a
// Broker that owns the client. The client neither retries nor redirects
// commands (see NewCluster) and makes one dial attempt per command;
// configure functions are applied after these defaults, to set a
// username, password or TLS, and may change other settings. An error
// never quotes the password.
func ConnectCluster(addrs []string, opts Options, configure ...func(*redis.ClusterOptions)) (*Broker, error) {
	opts, err := withClusterDefaults(opts)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: no cluster address", ErrInvalidOptions)
	}
	co := &redis.ClusterOptions{Addrs: addrs, MaxRetries: -1, MaxRedirects: -1, DialerRetries: 1}
	for _, c := range configure {
		c(co)
	}
	if co.MaxRetries > 0 || co.MaxRedirects > 0 {
		return nil, fmt.Errorf("%w: configure set MaxRetries or MaxRedirects, which can publish a message twice", ErrInvalidOptions)
	}
	client := redis.NewClusterClient(co)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisbroker: connect: %w", classify(err))
	}
	b := newBroker(nil, client, true, opts)
	b.counters.Connected.Store(true)
	return b, nil
}

// withClusterDefaults is withDefaults for a Cluster, whose channels must
// keep the hash slot of their whole name.
func withClusterDefaults(opts Options) (Options, error) {
	opts, err := withDefaults(opts)
	if err == nil && strings.ContainsAny(opts.Prefix, "{}") {
		err = fmt.Errorf("%w: a Cluster's prefix holds '{' or '}'", ErrInvalidOptions)
	}
	return opts, err
}
