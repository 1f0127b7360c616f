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
		"JWT_LEEWAY", "OIDC_ISSUER", "OIDC_AUDIENCE", "CHAT_ALLOWED_ORIGINS", "CHAT_READ_LIMIT", "CHAT_QUEUE_SIZE", "CHAT_READ_RATE", "CHAT_READ_BURST", "CHAT_HISTORY", "CHAT_MAX_ROOMS", "CHAT_WRITE_TIMEOUT",
		"CHAT_SHUTDOWN_TIMEOUT", "CHAT_DRAIN", "CHAT_CLOSE_AFTER_UPGRADE", "CHAT_DEV_TOKEN_TTL", "LOG_LEVEL",
		"CHAT_BROKER", "CHAT_BROKER_KEY",
	}
}

// healthResponse is the /healthz document. Its names are snake_case
// throughout, as auth.Stats marshals itself.
type healthResponse struct {
	Status      string          `json:"status"`
	Environment string          `json:"environment"`
	Config      healthConfig    `json:"config"`
	Connections wsmanager.Stats `json:"connections"`
	Auth        auth.Stats      `json:"auth"`
	Cluster     healthCluster   `json:"cluster"`
}

// healthCluster says whether the node is part of a cluster, through which
// kind of broker, and whether its broker connections are up.
type healthCluster struct {
	Broker    string `json:"broker"` // "nats", "redis", or "" for a single node
	Signed    bool   `json:"signed"` // envelopes are authenticated with CHAT_BROKER_KEY
	Connected bool   `json:"connected"`
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
		Connections: a.factory.Stats(),
		Auth:        a.auth.Stats(),
		Cluster:     a.clusterHealth(),
	})
}

func (a *app) clusterHealth() healthCluster {
	h := healthCluster{Signed: a.cfg.BrokerKey != "", Connected: len(a.brokers) > 0}
	for _, b := range a.brokers {
		h.Broker = b.kind
		h.Connected = h.Connected && b.connected()
	}
	return h
}
