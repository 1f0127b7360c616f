package prommetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ssotkit/ssot/contrib/prommetrics"
	"github.com/ssotkit/ssot/internal/testkit/brokertest"
	"github.com/ssotkit/ssot/wsmanager"
)

const factoryHelp = `# HELP ssot_ws_broker_echoes_total This node's own messages that came back from the broker, ignored.
# TYPE ssot_ws_broker_echoes_total counter
ssot_ws_broker_echoes_total 0
# HELP ssot_ws_broker_errors_total Broker publish or log append failures.
# TYPE ssot_ws_broker_errors_total counter
ssot_ws_broker_errors_total 0
# HELP ssot_ws_broker_malformed_total Broker messages that no Factory published, ignored.
# TYPE ssot_ws_broker_malformed_total counter
ssot_ws_broker_malformed_total 0
# HELP ssot_ws_broker_published_total SendToUser messages handed to the broker, or appended to the log.
# TYPE ssot_ws_broker_published_total counter
ssot_ws_broker_published_total 0
# HELP ssot_ws_broker_rejected_total Broker messages without a valid signature under the factory's broker key, ignored.
# TYPE ssot_ws_broker_rejected_total counter
ssot_ws_broker_rejected_total 0
# HELP ssot_ws_broker_received_total Messages and disconnect requests received from other nodes, or from the log, for this node's users.
# TYPE ssot_ws_broker_received_total counter
ssot_ws_broker_received_total 0
# HELP ssot_ws_connection_limit_hits_total Connections refused because the manager's connection limit was reached.
# TYPE ssot_ws_connection_limit_hits_total counter
ssot_ws_connection_limit_hits_total 0
# HELP ssot_ws_handler_errors_total Connections closed by a handler error.
# TYPE ssot_ws_handler_errors_total counter
ssot_ws_handler_errors_total 0
# HELP ssot_ws_handler_panics_total Connections closed by a handler panic.
# TYPE ssot_ws_handler_panics_total counter
ssot_ws_handler_panics_total 0
# HELP ssot_ws_slow_closes_total Connections closed by CloseSlow or WriteTimeout.
# TYPE ssot_ws_slow_closes_total counter
ssot_ws_slow_closes_total 0
# HELP ssot_ws_user_limit_hits_total Managers refused because the user's limit was reached.
# TYPE ssot_ws_user_limit_hits_total counter
ssot_ws_user_limit_hits_total 0
# HELP ssot_ws_factory_limit_hits_total Managers or connections refused because the factory's limit was reached.
# TYPE ssot_ws_factory_limit_hits_total counter
ssot_ws_factory_limit_hits_total 0
# HELP ssot_ws_expired_closes_total Connections closed because their identity expired.
# TYPE ssot_ws_expired_closes_total counter
ssot_ws_expired_closes_total 0
# HELP ssot_ws_messages_discarded_total Messages queued and never written: the connection closed first, or the write carrying them failed.
# TYPE ssot_ws_messages_discarded_total counter
ssot_ws_messages_discarded_total 0
# HELP ssot_ws_resumes_total Connections that resumed from a position their history held.
# TYPE ssot_ws_resumes_total counter
ssot_ws_resumes_total 0
# HELP ssot_ws_resume_resets_total Connections whose resume position was lost or from another epoch, sent a reset.
# TYPE ssot_ws_resume_resets_total counter
ssot_ws_resume_resets_total 0
# HELP ssot_ws_messages_replayed_total Messages queued from the history to resuming connections.
# TYPE ssot_ws_messages_replayed_total counter
ssot_ws_messages_replayed_total 0
# HELP ssot_ws_history_bytes Framed bytes kept by this node's history streams.
# TYPE ssot_ws_history_bytes gauge
ssot_ws_history_bytes 0
# HELP ssot_ws_drain_closes_total Connections closed by a drain.
# TYPE ssot_ws_drain_closes_total counter
ssot_ws_drain_closes_total 0
# HELP ssot_ws_drain_refused_total Connections refused while draining.
# TYPE ssot_ws_drain_refused_total counter
ssot_ws_drain_refused_total 0
# HELP ssot_ws_messages_dropped_total Messages refused by DropNewest, or discarded by DropOldest to make room, because a connection's queue was full.
# TYPE ssot_ws_messages_dropped_total counter
ssot_ws_messages_dropped_total 0
`

func factoryExposition(active, created, removed, managersActive, managersRemoved, queued, written string) string {
	return factoryHelp + `# HELP ssot_ws_connections_active Connections currently registered.
# TYPE ssot_ws_connections_active gauge
ssot_ws_connections_active ` + active + `
# HELP ssot_ws_connections_created_total Connections registered.
# TYPE ssot_ws_connections_created_total counter
ssot_ws_connections_created_total ` + created + `
# HELP ssot_ws_connections_removed_total Connections unregistered.
# TYPE ssot_ws_connections_removed_total counter
ssot_ws_connections_removed_total ` + removed + `
# HELP ssot_ws_managers_active Managers (one per user and thread) currently held.
# TYPE ssot_ws_managers_active gauge
ssot_ws_managers_active ` + managersActive + `
# HELP ssot_ws_managers_created_total Managers created.
# TYPE ssot_ws_managers_created_total counter
ssot_ws_managers_created_total 1
# HELP ssot_ws_managers_removed_total Managers removed by Manager.Close, the idle janitor or Factory.Close.
# TYPE ssot_ws_managers_removed_total counter
ssot_ws_managers_removed_total ` + managersRemoved + `
# HELP ssot_ws_messages_queued_total Messages given to a connection's queue by Send, SendToUser, Broadcast or a broker delivery, once per connection.
# TYPE ssot_ws_messages_queued_total counter
ssot_ws_messages_queued_total ` + queued + `
# HELP ssot_ws_messages_written_total Messages handed to the transport in a write that succeeded.
# TYPE ssot_ws_messages_written_total counter
ssot_ws_messages_written_total ` + written + `
`
}

// TestFactoryCollector serves one connection, sends it two messages, and
// checks the whole exposition; then closes the Factory and checks that the
// collector reports the final counts, the connection and manager gone.
func TestFactoryCollector(t *testing.T) {
	t.Parallel()
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry(t)(prommetrics.NewFactoryCollector(f))

	conn := brokertest.Connect(t, f, "alice")
	ctx := context.Background()
	for _, msg := range []string{"one", "two"} {
		if n, err := f.SendToUser(ctx, "alice", []byte(msg)); n != 1 || err != nil {
			t.Fatalf("SendToUser = %d, %v", n, err)
		}
	}
	if n := conn.WaitWritten(ctx, 2); n != 2 {
		t.Fatalf("written %d", n)
	}
	// The writer counts a write once the transport's Write has returned.
	brokertest.WaitFor(t, "the writes to be counted", func() bool { return f.Stats().MessagesWritten == 2 })
	if err := testutil.GatherAndCompare(reg, strings.NewReader(factoryExposition("1", "1", "0", "1", "0", "2", "2")+endedExposition(false))); err != nil {
		t.Error(err)
	}

	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(factoryExposition("0", "1", "1", "0", "1", "2", "2")+endedExposition(true))); err != nil {
		t.Error(err)
	}
}

func TestNilSourcesAreRefused(t *testing.T) {
	t.Parallel()
	if _, err := prommetrics.NewFactoryCollector(nil); !errors.Is(err, prommetrics.ErrInvalidSource) {
		t.Errorf("NewFactoryCollector(nil) = %v", err)
	}
	if _, err := prommetrics.NewAuthCollector(nil); !errors.Is(err, prommetrics.ErrInvalidSource) {
		t.Errorf("NewAuthCollector(nil) = %v", err)
	}
	if _, err := prommetrics.NewBrokerCollector("nats", nil); !errors.Is(err, prommetrics.ErrInvalidSource) {
		t.Errorf("NewBrokerCollector(nil) = %v", err)
	}
	if _, err := prommetrics.NewBrokerCollector("", func() prommetrics.BrokerStats { return prommetrics.BrokerStats{} }); !errors.Is(err, prommetrics.ErrInvalidSource) {
		t.Errorf("NewBrokerCollector with no name = %v", err)
	}
}

// endedExposition is the metrics of connection endings and the other
// counters added with them, all 0 but, once the factory closed its one
// connection (closed), one ending by the server with 1001.
func endedExposition(closed bool) string {
	one := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	s := ""
	for _, m := range []struct{ name, help string }{
		{"ssot_ws_observer_panics_total", "Panics of a connection machine's observers, contained."},
		{"ssot_ws_token_refreshes_total", "Token refreshes that moved a connection's expiry."},
		{"ssot_ws_refresh_failures_total", "Connections closed because a token refresh was refused."},
		{"ssot_ws_messages_rate_limited_total", "Messages clients sent past the read rate limit."},
		{"ssot_ws_rate_limit_closes_total", "Connections closed for sending past the read rate limit."},
	} {
		s += "# HELP " + m.name + " " + m.help + "\n# TYPE " + m.name + " counter\n" + m.name + " 0\n"
	}
	s += "# HELP ssot_ws_connections_ended_total Served connections that ended, by who ended them: the peer, the server, or a failure of the transport.\n# TYPE ssot_ws_connections_ended_total counter\n"
	s += `ssot_ws_connections_ended_total{outcome="peer"} 0` + "\n"
	s += `ssot_ws_connections_ended_total{outcome="server"} ` + one(closed) + "\n"
	s += `ssot_ws_connections_ended_total{outcome="failed"} 0` + "\n"
	s += "# HELP ssot_ws_connections_ended_by_code_total Served connections that ended, by the class of the close code on the wire.\n# TYPE ssot_ws_connections_ended_by_code_total counter\n"
	for _, c := range []string{"normal", "going_away", "no_status", "abnormal", "protocol", "policy", "too_big", "internal", "restart", "try_again", "application", "other"} {
		v := "0"
		if c == "going_away" {
			v = one(closed)
		}
		s += `ssot_ws_connections_ended_by_code_total{class="` + c + `"} ` + v + "\n"
	}
	return s
}
