package prommetrics_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ssotkit/ssot/contrib/prommetrics"
)

const brokerExposition = `# HELP ssot_broker_connected 1 while the connection to the broker server is up, else 0.
# TYPE ssot_broker_connected gauge
ssot_broker_connected{broker="nats"} 1
ssot_broker_connected{broker="redis"} 0
# HELP ssot_broker_delivered_total Messages from the broker passed to this node's Factory.
# TYPE ssot_broker_delivered_total counter
ssot_broker_delivered_total{broker="nats"} 3
ssot_broker_delivered_total{broker="redis"} 30
# HELP ssot_broker_dropped_total Messages dropped for this node because its deliveries fell behind.
# TYPE ssot_broker_dropped_total counter
ssot_broker_dropped_total{broker="nats"} 4
ssot_broker_dropped_total{broker="redis"} 40
# HELP ssot_broker_malformed_total Messages under the prefix that no broker published, dropped.
# TYPE ssot_broker_malformed_total counter
ssot_broker_malformed_total{broker="nats"} 5
ssot_broker_malformed_total{broker="redis"} 50
# HELP ssot_broker_publish_errors_total Messages Publish refused, the broker being unreachable included, and (redis) accepted messages lost before the server confirmed them.
# TYPE ssot_broker_publish_errors_total counter
ssot_broker_publish_errors_total{broker="nats"} 2
ssot_broker_publish_errors_total{broker="redis"} 20
# HELP ssot_broker_published_total Messages handed to the broker server (nats) or confirmed by it (redis).
# TYPE ssot_broker_published_total counter
ssot_broker_published_total{broker="nats"} 1
ssot_broker_published_total{broker="redis"} 10
# HELP ssot_broker_reconnects_total Connections to the broker server restored after a loss.
# TYPE ssot_broker_reconnects_total counter
ssot_broker_reconnects_total{broker="nats"} 6
ssot_broker_reconnects_total{broker="redis"} 60
`

// TestBrokerCollector: every field of BrokerStats lands in its metric, the
// broker label tells two brokers apart in one registry, and each Collect
// reads the source once.
func TestBrokerCollector(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	source := func(k uint64, connected bool) func() prommetrics.BrokerStats {
		return func() prommetrics.BrokerStats {
			calls.Add(1)
			return prommetrics.BrokerStats{Published: 1 * k, PublishErrors: 2 * k, Delivered: 3 * k, Dropped: 4 * k, Malformed: 5 * k, Reconnects: 6 * k, Connected: connected}
		}
	}
	reg := prometheus.NewPedanticRegistry()
	for _, b := range []struct {
		name      string
		k         uint64
		connected bool
	}{{"nats", 1, true}, {"redis", 10, false}} {
		c, err := prommetrics.NewBrokerCollector(b.name, source(b.k, b.connected))
		if err != nil {
			t.Fatal(err)
		}
		reg.MustRegister(c)
	}
	calls.Store(0)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(brokerExposition)); err != nil {
		t.Error(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("one gather called the sources %d times, want once each", n)
	}
}
