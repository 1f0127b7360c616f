package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssotkit/ssot"
	"github.com/ssotkit/ssot/auth"
	ssotjs "github.com/ssotkit/ssot/client/js"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/contrib/jwtauth"
	"github.com/ssotkit/ssot/contrib/oidcauth"
	"github.com/ssotkit/ssot/contrib/prommetrics"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/wsmanager"
)

// subprotocol is the chat protocol's WebSocket subprotocol, echoed to
// browsers that send their token as a second subprotocol.
const subprotocol = "chat.v1"

// app is the wired service: everything main starts and stops.
type app struct {
	cfg     settings
	env     env.Env
	logger  *slog.Logger
	auth    *auth.Unified
	factory *wsmanager.Factory
	rooms   *rooms
	idle    *idleThreads
	brokers []*broker // users', rooms'; none on a single node
	metrics *prometheus.Registry
	signer  *jwtauth.Signer // nil when the development login is off
	keyKind string
	handler http.Handler
}

// hooks lets tests put a failing backend behind the real stack.
type hooks struct {
	backend func(auth.Authenticator) auth.Authenticator
}

// newApp wires the golden path: JWT verifier → auth.Unified → gobwasws
// upgrader → wsmanager factory and endpoint → middleware chain.
func newApp(ctx context.Context, cfg settings, e env.Env, logger *slog.Logger, h hooks) (*app, error) {
	a := &app{cfg: cfg, env: e, logger: logger}
	verifier, err := a.verifier(ctx)
	if err != nil {
		return nil, err
	}
	backend := verifier
	if h.backend != nil {
		backend = h.backend(backend)
	}
	a.auth, err = auth.New(backend, auth.Options{Logger: logger, OnFailure: logAuthFailure(logger)})
	if err != nil {
		return nil, fmt.Errorf("chat: auth: %w", err)
	}
	if err := a.cluster(); err != nil {
		_ = a.Close(context.Background())
		return nil, err
	}
	if err := a.registerMetrics(); err != nil {
		_ = a.Close(context.Background())
		return nil, err
	}
	a.handler, err = a.routes()
	if err != nil {
		_ = a.Close(context.Background())
		return nil, err
	}
	return a, nil
}

// cluster builds the two factories, joined to the other nodes through
// CHAT_BROKER when it is set: the chat's, whose SendToUser carries direct
// messages, and the rooms' relays, which carry room messages.
func (a *app) cluster() error {
	var usersBroker, roomsBroker wsmanager.Broker
	var key []byte
	if a.cfg.Broker != "" {
		for _, prefix := range []string{usersPrefix, roomsPrefix} {
			b, err := connectBroker(a.cfg.Broker, prefix, a.logger)
			if err != nil {
				return err
			}
			a.brokers = append(a.brokers, b)
		}
		// The adapters themselves, not the wrappers: a wrapper would hide
		// that they route by interest (wsmanager.Router), and every node
		// would receive every user's messages.
		usersBroker, roomsBroker = a.brokers[0].Broker, a.brokers[1].Broker
		if a.cfg.BrokerKey != "" {
			key = []byte(a.cfg.BrokerKey)
		}
	}
	relays, err := wsmanager.NewFactory(wsmanager.Options{Broker: roomsBroker, BrokerKey: key, QueueSize: a.cfg.QueueSize, Logger: a.logger})
	if err != nil {
		return fmt.Errorf("chat: wsmanager: %w", err)
	}
	a.rooms = &rooms{relays: relays, max: a.cfg.MaxRooms}
	connected := onConnect(a.logger)
	ended := logEnding(a.logger)
	a.factory, err = wsmanager.NewFactory(wsmanager.Options{
		QueueSize: a.cfg.QueueSize,
		// Direct messages get positions and are kept, so a tab that
		// reconnects with the position of the last one it showed gets
		// what it missed; room messages are broadcasts, not kept.
		History:      wsmanager.HistoryOptions{Messages: a.cfg.History, Frame: framePosition, ResetFrame: frameReset},
		WriteTimeout: a.cfg.WriteTimeout,
		// A client that floods is closed with 1008 "rate limited" at its
		// own connection, before its messages fill anyone else's queue.
		ReadRate:  wsmanager.RateLimit{Rate: a.cfg.ReadRate, Burst: a.cfg.ReadBurst},
		Broker:    usersBroker,
		BrokerKey: key,
		OnConnect: func(c *wsmanager.Connection) {
			switch err := a.rooms.join(c); {
			case errors.Is(err, errTooManyRooms):
				// Closed before its upgrade completes: the client reads the
				// close frame, and no welcome.
				_ = c.Close(1008, "too many rooms")
				return
			case err != nil:
				a.logger.Warn("chat: room messages from other nodes will not reach this connection", "err", err)
			}
			connected(c)
		},
		OnDisconnect: func(c *wsmanager.Connection, err error) {
			a.rooms.leave(c)
			a.idle.left(c)
			ended(c, err)
		},
		Logger: a.logger,
	})
	if err != nil {
		return fmt.Errorf("chat: wsmanager: %w", err)
	}
	a.rooms.users = a.factory
	a.idle = &idleThreads{f: a.factory, ttl: wsmanager.DefaultIdleTimeout}
	return nil
}

// registerMetrics builds the registry /metrics serves: the authenticator,
// the two factories labelled factory="chat" and factory="rooms", and each
// broker connection labelled by its prefix.
func (a *app) registerMetrics() error {
	a.metrics = prometheus.NewRegistry()
	chat := prometheus.WrapRegistererWith(prometheus.Labels{"factory": "chat"}, a.metrics)
	rooms := prometheus.WrapRegistererWith(prometheus.Labels{"factory": "rooms"}, a.metrics)
	fc, err := prommetrics.NewFactoryCollector(a.factory)
	if err != nil {
		return err
	}
	rc, err := prommetrics.NewFactoryCollector(a.rooms.relays)
	if err != nil {
		return err
	}
	ac, err := prommetrics.NewAuthCollector(a.auth)
	if err != nil {
		return err
	}
	if err := errors.Join(chat.Register(fc), a.metrics.Register(ac), rooms.Register(rc)); err != nil {
		return fmt.Errorf("chat: metrics: %w", err)
	}
	for i, b := range a.brokers {
		bc, err := prommetrics.NewBrokerCollector(b.kind, b.stats)
		if err != nil {
			return err
		}
		prefix := []string{usersPrefix, roomsPrefix}[i]
		if err := prometheus.WrapRegistererWith(prometheus.Labels{"prefix": prefix}, a.metrics).Register(bc); err != nil {
			return fmt.Errorf("chat: metrics: %w", err)
		}
	}
	return nil
}

// verifier builds the token verifier and, in Development, the signer of
// the development login. With OIDC_ISSUER it discovers the provider, so a
// provider that cannot be reached stops the service from starting.
func (a *app) verifier(ctx context.Context) (auth.Authenticator, error) {
	cfg := a.cfg
	if cfg.OIDCIssuer != "" {
		a.keyKind = "openid provider"
		v, err := oidcauth.New(ctx, cfg.OIDCIssuer, oidcauth.Options{Audience: cfg.OIDCAudience, Leeway: cfg.JWTLeeway, Logger: a.logger})
		if err != nil {
			return nil, fmt.Errorf("chat: OIDC_ISSUER: %w", err)
		}
		return v, nil
	}
	opts := jwtauth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: cfg.JWTLeeway}
	if cfg.publicKey != nil {
		a.keyKind = "public key"
		v, err := jwtauth.NewPublicKey(cfg.publicKey, opts)
		if err != nil {
			return nil, fmt.Errorf("chat: JWT_PUBLIC_KEY_FILE: %w", err)
		}
		return v, nil
	}
	secret := []byte(cfg.JWTSecret)
	a.keyKind = "hmac"
	if len(secret) == 0 {
		// Only reachable in Development (validate requires a key
		// elsewhere): a random secret means tokens die with the process.
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("chat: generating a development secret: %w", err)
		}
		a.keyKind = "hmac, random per process (development)"
	}
	v, err := jwtauth.NewHMAC(secret, opts)
	if err != nil {
		return nil, fmt.Errorf("chat: JWT_SECRET: %w", err)
	}
	if cfg.Environment == env.Development {
		a.signer, err = jwtauth.NewSigner(secret, jwtauth.SignerOptions{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
		if err != nil {
			return nil, fmt.Errorf("chat: development login: %w", err)
		}
	}
	return v, nil
}

// routes builds the HTTP handler: the mux behind the middleware chain.
func (a *app) routes() (http.Handler, error) {
	// gobwasws batches writes, which is what fan-out needs; coderws and
	// gorillaws take the same two options and are one import away.
	up, err := gobwasws.NewUpgrader(gobwasws.Options{
		ReadLimit:      a.cfg.ReadLimit,
		OriginPatterns: a.cfg.AllowedOrigins,
	})
	if err != nil {
		return nil, fmt.Errorf("chat: CHAT_ALLOWED_ORIGINS or CHAT_READ_LIMIT: %w", err)
	}
	ch := &chat{f: a.factory, auth: a.auth, rooms: a.rooms, idle: a.idle, history: a.cfg.History > 0, clustered: len(a.brokers) > 0, logger: a.logger, now: time.Now}
	logged := loggingUpgrader{up: up, logger: a.logger}
	ws, err := wsmanager.NewEndpoint(a.factory, a.auth, logged, ch, wsmanager.EndpointOptions{
		Subprotocol:       subprotocol,
		CloseAfterUpgrade: a.cfg.CloseAfterUpgrade,
		// gobwasws hijacks the HTTP connection, so each connection can be
		// served on a goroutine of the factory's and net/http's released.
		Detach: true,
		Thread: roomOf,
		RequestID: func(r *http.Request) string {
			id, _ := middleware.RequestIDFrom(r.Context())
			return id
		},
	})
	if err != nil {
		return nil, fmt.Errorf("chat: endpoint: %w", err)
	}

	// The same connections over server-sent events, for networks where a
	// WebSocket cannot open: the page's ssot.js falls back to it.
	sse, err := wsmanager.NewSSEEndpoint(a.factory, a.auth, ch, wsmanager.SSEOptions{
		Thread:    roomOf,
		ReadLimit: a.cfg.ReadLimit,
		RequestID: func(r *http.Request) string {
			id, _ := middleware.RequestIDFrom(r.Context())
			return id
		},
	})
	if err != nil {
		return nil, fmt.Errorf("chat: server-sent events endpoint: %w", err)
	}

	ui, err := staticHandler()
	if err != nil {
		return nil, fmt.Errorf("chat: ui: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", requireValidRoom(withConnLog(requireValidResume(logged, a.cfg.CloseAfterUpgrade, a.logger)(ws))))
	mux.Handle("GET /sse", requireValidRoom(withConnLog(sse)))
	mux.Handle("POST /sse", sse)
	mux.HandleFunc("GET /api/me", a.me)
	mux.HandleFunc("POST /dev/login", a.devLogin)
	mux.HandleFunc("GET /healthz", a.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn)}))
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET /static/", ui)
	mux.Handle("GET /static/ssot.js", ssotjs.Handler()) // the client, from its module

	authn, err := middleware.NewAuthenticate(a.auth, middleware.AuthOptions{
		// Only /api/ needs an identity from the middleware: the
		// WebSocket endpoint authenticates itself, so it can answer
		// with a close code browsers can read, and the server-sent events
		// endpoint takes a stream's token from the query string, where
		// EventSource puts it.
		Skip: []string{"/", "/ws", "/sse", "/healthz", "/metrics", "/dev/login", "/static/", "/favicon.ico"},
	})
	if err != nil {
		return nil, fmt.Errorf("chat: middleware: %w", err)
	}
	chain, err := middleware.New(
		middleware.Recover(a.logger),
		middleware.RequestID(),
		accessLog(a.logger),
		securityHeaders(),
		authn,
	)
	if err != nil {
		return nil, fmt.Errorf("chat: middleware: %w", err)
	}
	h, err := chain.Then(mux)
	if err != nil {
		return nil, fmt.Errorf("chat: middleware: %w", err)
	}
	return h, nil
}

// logAuthFailure returns the authenticator's OnFailure hook: every refused
// token, from the HTTP API and the WebSocket alike, is one Info line with
// the request ID and the class of refusal (never the token).
func logAuthFailure(logger *slog.Logger) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		id, _ := middleware.RequestIDFrom(ctx)
		logger.InfoContext(ctx, "chat: authentication failed", "err", err, "request_id", id)
	}
}

// roomOf is the ThreadID of a WebSocket request: its room.
func roomOf(r *http.Request) string {
	if room := r.URL.Query().Get("room"); room != "" {
		return room
	}
	return defaultRoom
}

// requireValidRoom refuses a WebSocket request for a room name validRoom
// rejects before it reaches the endpoint.
func requireValidRoom(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !validRoom(roomOf(r)) {
			http.Error(w, "room names are 1-32 lower-case letters, digits and dashes", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serve runs the HTTP server on ln until ctx ends, then shuts down: no new
// connections, every WebSocket closed with 1001, the authenticator drained.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		a.logger.Info("chat: shutting down", "grace", a.cfg.ShutdownTimeout)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if a.cfg.Drain > 0 {
		// Clients leave a few at a time, with 1012, for the other nodes;
		// whoever is left when the grace period allows no more is closed
		// with 1001 below.
		err := a.factory.Drain(sctx, wsmanager.DrainOptions{Duration: a.cfg.Drain})
		a.logger.Info("chat: drained", "closed", a.factory.Stats().DrainCloses, "err", err)
	}
	// The server, then the WebSockets (1001), then the authenticator; then
	// the room relays and the broker connections.
	err := errors.Join(ssot.Shutdown(sctx, srv, a.factory, a.auth), a.closeCluster(sctx))
	if serveErr == nil {
		serveErr = <-errc
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, err)
}

// Close closes every WebSocket with 1001 and waits for the factory's and
// the authenticator's goroutines, then closes the room relays and the
// broker connections, for a service that never started serving (newApp
// failing half-way included).
func (a *app) Close(ctx context.Context) error {
	return errors.Join(ssot.Shutdown(ctx, nil, a.factory, a.auth), a.closeCluster(ctx))
}

// closeCluster closes the room relays, then the broker connections.
func (a *app) closeCluster(ctx context.Context) error {
	var errs []error
	if a.rooms != nil {
		errs = append(errs, a.rooms.Close(ctx))
	}
	for _, b := range a.brokers {
		errs = append(errs, b.close(ctx))
	}
	return errors.Join(errs...)
}
