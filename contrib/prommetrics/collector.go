package prommetrics

import "github.com/prometheus/client_golang/prometheus"

// metric is one metric of a collector: its description, kind and how its
// value is read from a Stats snapshot S.
type metric[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(S) float64
}

func counter[S any](name, help string, labels prometheus.Labels, value func(S) uint64) metric[S] {
	return metric[S]{prometheus.NewDesc(name, help, nil, labels), prometheus.CounterValue, func(s S) float64 { return float64(value(s)) }}
}

func gauge[S any](name, help string, labels prometheus.Labels, value func(S) float64) metric[S] {
	return metric[S]{prometheus.NewDesc(name, help, nil, labels), prometheus.GaugeValue, value}
}

// collector reports metrics read from one Stats snapshot per Collect.
type collector[S any] struct {
	stats   func() S
	metrics []metric[S]
}

// Describe implements prometheus.Collector.
func (c *collector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *collector[S]) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s))
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
