// Package prommetrics exports the Stats of ssot's components to Prometheus:
// one prometheus.Collector per component, which the caller registers on
// the registry of its choice (the package never touches
// prometheus.DefaultRegisterer).
//
//	reg := prometheus.NewRegistry()
//	fc, err := prommetrics.NewFactoryCollector(factory) // ssot_ws_*
//	ac, err := prommetrics.NewAuthCollector(authn)      // ssot_auth_*
//	reg.MustRegister(fc, ac)
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # Brokers
//
// The broker adapters are modules of their own, and this one imports
// neither: NewBrokerCollector takes a function returning BrokerStats, whose
// fields are those of natsbroker.Stats and redisbroker.Stats, so that a
// conversion turns either into one and the compiler checks it:
//
//	bc, err := prommetrics.NewBrokerCollector("redis", func() prommetrics.BrokerStats {
//		return prommetrics.BrokerStats(b.Stats()) // b is a *redisbroker.Broker
//	})
//
// # Metrics
//
// Counters end in _total and only grow; current values (connections,
// cache entries, the breaker state, the broker connection) are gauges.
// Every Collect calls the component's Stats once, which reads atomics
// only: a scrape never waits for a message, an authentication or a
// delivery, nor makes one wait. The values are those of that one call, so
// a Factory or a Unified that is closed keeps reporting its final counts
// until the collector is unregistered.
//
// Several components of one kind in one registry need a label apiece:
// register each collector through prometheus.WrapRegistererWith.
package prommetrics
