package main

import (
	"net/http"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/wsmanager"
)

// settingKeys returns the settings /healthz reports the source of.
func settingKeys() []string {
	return []string{
		"ENVIRONMENT", "CHAT_ADDR", "JWT_SECRET", "JWT_PUBLIC_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE",
		"JWT_LEEWAY", "CHAT_ALLOWED_ORIGINS", "CHAT_READ_LIMIT", "CHAT_QUEUE_SIZE", "CHAT_WRITE_TIMEOUT",
		"CHAT_SHUTDOWN_TIMEOUT", "CHAT_CLOSE_AFTER_UPGRADE", "CHAT_DEV_TOKEN_TTL", "LOG_LEVEL",
	}
}

// healthResponse is the /healthz document. Its names are snake_case
// throughout, as auth.Stats marshals itself.
type healthResponse struct {
	Status      string           `json:"status"`
	Environment string           `json:"environment"`
	Config      healthConfig     `json:"config"`
	Connections connectionsStats `json:"connections"`
	Auth        auth.Stats       `json:"auth"`
}

// connectionsStats is wsmanager.Stats with snake_case names.
type connectionsStats struct {
	ManagersActive    uint64 `json:"managers_active"`
	ManagersCreated   uint64 `json:"managers_created"`
	ManagersRemoved   uint64 `json:"managers_removed"`
	ConnsActive       uint64 `json:"conns_active"`
	ConnsCreated      uint64 `json:"conns_created"`
	ConnsRemoved      uint64 `json:"conns_removed"`
	MessagesQueued    uint64 `json:"messages_queued"`
	MessagesWritten   uint64 `json:"messages_written"`
	MessagesDropped   uint64 `json:"messages_dropped"`
	MessagesDiscarded uint64 `json:"messages_discarded"`
	SlowCloses        uint64 `json:"slow_closes"`
	ExpiredCloses     uint64 `json:"expired_closes"`
	UserLimitHits     uint64 `json:"user_limit_hits"`
	ConnLimitHits     uint64 `json:"conn_limit_hits"`
	FactoryLimitHits  uint64 `json:"factory_limit_hits"`
	HandlerErrors     uint64 `json:"handler_errors"`
	HandlerPanics     uint64 `json:"handler_panics"`
	BrokerPublished   uint64 `json:"broker_published"`
	BrokerErrors      uint64 `json:"broker_errors"`
	BrokerReceived    uint64 `json:"broker_received"`
	BrokerEchoes      uint64 `json:"broker_echoes"`
	BrokerMalformed   uint64 `json:"broker_malformed"`
	BrokerRejected    uint64 `json:"broker_rejected"`
}

// newConnectionsStats converts s. The conversion compiles only while the
// fields are wsmanager.Stats's, one for one, so no counter is left out.
func newConnectionsStats(s wsmanager.Stats) connectionsStats {
	return connectionsStats(s)
}

// healthConfig describes the configuration without a single secret: which
// kind of key verifies tokens, whether checks are on, and which layer (the
// OS environment or .env) supplied each setting that is set.
type healthConfig struct {
	Addr              string            `json:"addr"`
	JWTKey            string            `json:"jwt_key"`
	JWTIssuerChecked  bool              `json:"jwt_issuer_checked"`
	JWTAudience       string            `json:"jwt_audience"`
	DevLogin          bool              `json:"dev_login"`
	CloseAfterUpgrade bool              `json:"close_after_upgrade"`
	ReadLimit         int64             `json:"read_limit"`
	QueueSize         int               `json:"queue_size"`
	WriteTimeout      string            `json:"write_timeout"`
	LogLevel          string            `json:"log_level"`
	Sources           map[string]string `json:"sources"` // setting name → the layer that supplied it
}

// health reports configuration and statistics.
func (a *app) health(w http.ResponseWriter, _ *http.Request) {
	sources := make(map[string]string)
	for _, k := range settingKeys() {
		if _, ok := a.env.Lookup(k); ok {
			sources[k] = a.env.Source(k)
		}
	}
	writeJSON(w, http.StatusOK, healthResponse{
		Status:      "ok",
		Environment: a.cfg.Environment.String(),
		Config: healthConfig{
			Addr:              a.cfg.Addr,
			JWTKey:            a.keyKind,
			JWTIssuerChecked:  a.cfg.JWTIssuer != "",
			JWTAudience:       a.cfg.JWTAudience,
			DevLogin:          a.signer != nil,
			CloseAfterUpgrade: a.cfg.CloseAfterUpgrade,
			ReadLimit:         a.cfg.ReadLimit,
			QueueSize:         a.cfg.QueueSize,
			WriteTimeout:      a.cfg.WriteTimeout.String(),
			LogLevel:          a.cfg.LogLevel.String(),
			Sources:           sources,
		},
		Connections: newConnectionsStats(a.factory.Stats()),
		Auth:        a.auth.Stats(),
	})
}
