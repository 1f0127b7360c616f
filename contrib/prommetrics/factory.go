package prommetrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssotkit/ssot/wsmanager"
)

// FactorySource is what NewFactoryCollector reads: a *wsmanager.Factory.
type FactorySource interface{ Stats() wsmanager.Stats }

// NewFactoryCollector returns a collector of a Factory's Stats, as the
// ssot_ws_* metrics. It returns ErrInvalidSource for a nil source. The
// collector is safe for concurrent use.
func NewFactoryCollector(f FactorySource) (prometheus.Collector, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil factory", ErrInvalidSource)
	}
	type S = wsmanager.Stats
	type C = wsmanager.CodeCounts
	return &collector[S]{stats: f.Stats, metrics: []metric[S]{
		gauge("ssot_ws_managers_active", "Managers (one per user and thread) currently held.", nil, func(s S) float64 { return float64(s.ManagersActive) }),
		counter("ssot_ws_managers_created_total", "Managers created.", nil, func(s S) uint64 { return s.ManagersCreated }),
		counter("ssot_ws_managers_removed_total", "Managers removed by Manager.Close, the idle janitor or Factory.Close.", nil, func(s S) uint64 { return s.ManagersRemoved }),
		gauge("ssot_ws_connections_active", "Connections currently registered.", nil, func(s S) float64 { return float64(s.ConnsActive) }),
		counter("ssot_ws_connections_created_total", "Connections registered.", nil, func(s S) uint64 { return s.ConnsCreated }),
		counter("ssot_ws_connections_removed_total", "Connections unregistered.", nil, func(s S) uint64 { return s.ConnsRemoved }),
		counter("ssot_ws_messages_queued_total", "Messages given to a connection's queue by Send, SendToUser, Broadcast or a broker delivery, once per connection.", nil, func(s S) uint64 { return s.MessagesQueued }),
		counter("ssot_ws_messages_written_total", "Messages handed to the transport in a write that succeeded.", nil, func(s S) uint64 { return s.MessagesWritten }),
		counter("ssot_ws_messages_dropped_total", "Messages refused by DropNewest, or discarded by DropOldest to make room, because a connection's queue was full.", nil, func(s S) uint64 { return s.MessagesDropped }),
		counter("ssot_ws_messages_discarded_total", "Messages queued and never written: the connection closed first, or the write carrying them failed.", nil, func(s S) uint64 { return s.MessagesDiscarded }),
		counter("ssot_ws_slow_closes_total", "Connections closed by CloseSlow or WriteTimeout.", nil, func(s S) uint64 { return s.SlowCloses }),
		counter("ssot_ws_expired_closes_total", "Connections closed because their identity expired.", nil, func(s S) uint64 { return s.ExpiredCloses }),
		counter("ssot_ws_user_limit_hits_total", "Managers refused because the user's limit was reached.", nil, func(s S) uint64 { return s.UserLimitHits }),
		counter("ssot_ws_connection_limit_hits_total", "Connections refused because the manager's connection limit was reached.", nil, func(s S) uint64 { return s.ConnLimitHits }),
		counter("ssot_ws_factory_limit_hits_total", "Managers or connections refused because the factory's limit was reached.", nil, func(s S) uint64 { return s.FactoryLimitHits }),
		counter("ssot_ws_handler_errors_total", "Connections closed by a handler error.", nil, func(s S) uint64 { return s.HandlerErrors }),
		counter("ssot_ws_handler_panics_total", "Connections closed by a handler panic.", nil, func(s S) uint64 { return s.HandlerPanics }),
		counter("ssot_ws_broker_published_total", "SendToUser messages handed to the broker, or appended to the log.", nil, func(s S) uint64 { return s.BrokerPublished }),
		counter("ssot_ws_broker_errors_total", "Broker publish or log append failures.", nil, func(s S) uint64 { return s.BrokerErrors }),
		counter("ssot_ws_broker_received_total", "Messages and disconnect requests received from other nodes, or from the log, for this node's users.", nil, func(s S) uint64 { return s.BrokerReceived }),
		counter("ssot_ws_broker_echoes_total", "This node's own messages that came back from the broker, ignored.", nil, func(s S) uint64 { return s.BrokerEchoes }),
		counter("ssot_ws_broker_malformed_total", "Broker messages that no Factory published, ignored.", nil, func(s S) uint64 { return s.BrokerMalformed }),
		counter("ssot_ws_broker_rejected_total", "Broker messages without a valid signature under the factory's broker key, ignored.", nil, func(s S) uint64 { return s.BrokerRejected }),
		counter("ssot_ws_resumes_total", "Connections that resumed from a position their history held.", nil, func(s S) uint64 { return s.Resumes }),
		counter("ssot_ws_resume_resets_total", "Connections whose resume position was lost or from another epoch, sent a reset.", nil, func(s S) uint64 { return s.ResumeResets }),
		counter("ssot_ws_messages_replayed_total", "Messages queued from the history to resuming connections.", nil, func(s S) uint64 { return s.MessagesReplayed }),
		gauge("ssot_ws_history_bytes", "Framed bytes kept by this node's history streams.", nil, func(s S) float64 { return float64(s.HistoryBytes) }),
		counter("ssot_ws_drain_closes_total", "Connections closed by a drain.", nil, func(s S) uint64 { return s.DrainCloses }),
		counter("ssot_ws_drain_refused_total", "Connections refused while draining.", nil, func(s S) uint64 { return s.DrainRefused }),
		counter("ssot_ws_observer_panics_total", "Panics of a connection machine's observers, contained.", nil, func(s S) uint64 { return s.ObserverPanics }),
		counter("ssot_ws_token_refreshes_total", "Token refreshes that moved a connection's expiry.", nil, func(s S) uint64 { return s.TokenRefreshes }),
		counter("ssot_ws_refresh_failures_total", "Connections closed because a token refresh was refused.", nil, func(s S) uint64 { return s.RefreshFailures }),
		counter("ssot_ws_messages_rate_limited_total", "Messages clients sent past the read rate limit.", nil, func(s S) uint64 { return s.RateLimited }),
		counter("ssot_ws_rate_limit_closes_total", "Connections closed for sending past the read rate limit.", nil, func(s S) uint64 { return s.RateLimitCloses }),
		ended("peer", func(s S) uint64 { return s.EndedByPeer }),
		ended("server", func(s S) uint64 { return s.EndedByServer }),
		ended("failed", func(s S) uint64 { return s.EndedFailed }),
		closeCode("normal", func(c C) uint64 { return c.Normal }),
		closeCode("going_away", func(c C) uint64 { return c.GoingAway }),
		closeCode("no_status", func(c C) uint64 { return c.NoStatus }),
		closeCode("abnormal", func(c C) uint64 { return c.Abnormal }),
		closeCode("protocol", func(c C) uint64 { return c.Protocol }),
		closeCode("policy", func(c C) uint64 { return c.Policy }),
		closeCode("too_big", func(c C) uint64 { return c.TooBig }),
		closeCode("internal", func(c C) uint64 { return c.Internal }),
		closeCode("restart", func(c C) uint64 { return c.Restart }),
		closeCode("try_again", func(c C) uint64 { return c.TryAgain }),
		closeCode("application", func(c C) uint64 { return c.Application }),
		closeCode("other", func(c C) uint64 { return c.Other }),
	}}, nil
}

// ended is ssot_ws_connections_ended_total for one wsmanager.Outcome.
func ended(outcome string, value func(wsmanager.Stats) uint64) metric[wsmanager.Stats] {
	return counter("ssot_ws_connections_ended_total", "Served connections that ended, by who ended them: the peer, the server, or a failure of the transport.", prometheus.Labels{"outcome": outcome}, value)
}

// closeCode is ssot_ws_connections_ended_by_code_total for one class of
// close code (wsmanager.CodeClass).
func closeCode(class string, value func(wsmanager.CodeCounts) uint64) metric[wsmanager.Stats] {
	return counter("ssot_ws_connections_ended_by_code_total", "Served connections that ended, by the class of the close code on the wire.", prometheus.Labels{"class": class}, func(s wsmanager.Stats) uint64 { return value(s.EndedByCode) })
}
