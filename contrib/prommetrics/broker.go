package prommetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// BrokerStats are a broker adapter's counters. Its fields are those of
// natsbroker.Stats and redisbroker.Stats, in their order, so either
// converts to it: prommetrics.BrokerStats(b.Stats()).
type BrokerStats struct {
	Published     uint64 // messages handed to the broker server (natsbroker) or confirmed by it (redisbroker)
	PublishErrors uint64 // messages Publish refused, and (redisbroker) accepted messages lost before the server confirmed them
	Delivered     uint64 // messages passed to the subscriber
	Dropped       uint64 // messages dropped because the node's deliveries fell behind
	Malformed     uint64 // messages under the prefix that no broker published
	Reconnects    uint64 // connections to the broker server restored after a loss
	Connected     bool
}

// NewBrokerCollector returns a collector of a broker adapter's Stats, as
// the ssot_broker_* metrics labelled broker=name ("nats", "redis"). stats
// is called once per Collect and must not block: the adapters' Stats read
// atomics only. It returns ErrInvalidSource for a nil function or an empty
// name. The collector is safe for concurrent use.
func NewBrokerCollector(name string, stats func() BrokerStats) (prometheus.Collector, error) {
	if stats == nil || name == "" {
		return nil, fmt.Errorf("%w: nil stats function or empty broker name", ErrInvalidSource)
	}
	type S = BrokerStats
	l := prometheus.Labels{"broker": name}
	return &collector[S]{stats: stats, metrics: []metric[S]{
		counter("ssot_broker_published_total", "Messages handed to the broker server (nats) or confirmed by it (redis).", l, func(s S) uint64 { return s.Published }),
		counter("ssot_broker_publish_errors_total", "Messages Publish refused, the broker being unreachable included, and (redis) accepted messages lost before the server confirmed them.", l, func(s S) uint64 { return s.PublishErrors }),
		counter("ssot_broker_delivered_total", "Messages from the broker passed to this node's Factory.", l, func(s S) uint64 { return s.Delivered }),
		counter("ssot_broker_dropped_total", "Messages dropped for this node because its deliveries fell behind.", l, func(s S) uint64 { return s.Dropped }),
		counter("ssot_broker_malformed_total", "Messages under the prefix that no broker published, dropped.", l, func(s S) uint64 { return s.Malformed }),
		counter("ssot_broker_reconnects_total", "Connections to the broker server restored after a loss.", l, func(s S) uint64 { return s.Reconnects }),
		gauge("ssot_broker_connected", "1 while the connection to the broker server is up, else 0.", l, func(s S) float64 { return boolValue(s.Connected) }),
	}}, nil
}
