package ssot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/middleware"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// The planted secrets: each distinctive, so that finding one in a
// rendering means it leaked.
const (
	plantedToken        = "planted-token-4b1c"
	plantedEmail        = "planted-email-2f@example.org"
	plantedScope        = "planted-scope-77"
	plantedClientSecret = "planted-client-secret-9e"
	plantedURLPassword  = "planted-url-password-3d"
	plantedURLQuery     = "planted-query-5a"
	plantedSessionKey   = "planted-session-key-0123456789abcdef"
	plantedSessionValue = "planted-session-value-c4"
	plantedEnvValue     = "planted-env-value-6f"
	plantedMessage      = "planted-message-8b"
	plantedBrokerKey    = "planted-broker-key-0123456789abcdef"
	plantedCloseReason  = "planted-close-reason-1e"
)

// quietBroker is a Broker that delivers nothing, so that a Factory can hold
// a BrokerKey.
type quietBroker struct{}

func (quietBroker) Publish(context.Context, string, []byte) error { return nil }
func (quietBroker) Subscribe(func(string, []byte)) (func() error, error) {
	return func() error { return nil }, nil
}

// memUpgrader hands out in-memory connections, for a wsmanagertest.Server.
type memUpgrader struct{}

func (memUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	return memconn.New(memconn.Options{}), nil
}

// redactionSamples builds one sample per exported type of the library, each
// value made through the public API the way a service makes it, with the
// secrets planted where a service would put them.
func redactionSamples(t *testing.T) map[string]sample {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	identity := auth.Identity{UserID: "alice", Email: plantedEmail, Scopes: []string{plantedScope}, ExpiresAt: time.Now().Add(time.Hour)}
	identitySecrets := []string{plantedEmail, plantedScope}

	// auth
	static, err := auth.NewStatic(map[string]auth.Identity{plantedToken: identity}, env.Test)
	if err != nil {
		t.Fatal(err)
	}
	unified, err := auth.New(static, auth.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unified.Close(context.Background()) })
	if _, err := unified.Authenticate(ctx, plantedToken); err != nil {
		t.Fatal(err) // the identity is now in the cache
	}
	introOpts := auth.IntrospectionOptions{ClientID: "chat", ClientSecret: plantedClientSecret}
	intro, err := auth.NewIntrospection("https://svc:"+plantedURLPassword+"@idp.example/introspect?key="+plantedURLQuery, nil, introOpts)
	if err != nil {
		t.Fatal(err)
	}

	// middleware
	sessionOpts := middleware.SessionOptions{Keys: [][]byte{[]byte(plantedSessionKey)}, Environment: env.Test}
	session, err := middleware.Session(sessionOpts)
	if err != nil {
		t.Fatal(err)
	}
	var data *middleware.SessionData
	h := session.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		data, _ = middleware.SessionFrom(r.Context())
		data.Set("email", plantedSessionValue)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	authn, err := middleware.NewAuthenticate(unified, middleware.AuthOptions{Skip: []string{"/healthz"}})
	if err != nil {
		t.Fatal(err)
	}
	chain, err := middleware.New(middleware.Recover(quiet), authn)
	if err != nil {
		t.Fatal(err)
	}
	standard := middleware.StandardOptions{Logger: quiet, Session: &sessionOpts, Auth: unified}

	// env
	e := env.Map(map[string]string{"API_TOKEN": plantedEnvValue, "PORT": plantedEnvValue})
	var cfg struct {
		Port  int    `env:"PORT"`
		Token string `env:"API_TOKEN,secret"`
	}
	var fieldErr *env.FieldError
	if err := env.Decode(e, &cfg); !errors.As(err, &fieldErr) {
		t.Fatalf("Decode of a bad port = %v, want a *FieldError", err)
	}
	report, err := env.Check(e, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	var syntaxErr *env.SyntaxError
	if _, err := env.Parse(".env", strings.NewReader("A='"+plantedEnvValue)); !errors.As(err, &syntaxErr) {
		t.Fatalf("Parse of an open quote = %v, want a *SyntaxError", err)
	}

	// statemachine
	machine, err := statemachine.NewConn(statemachine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := machine.Transition(statemachine.Accepted, "accepted"); err != nil {
		t.Fatal(err)
	}
	var transitionErr *statemachine.TransitionError[statemachine.ConnState]
	if err := machine.Transition(statemachine.Closing, "too early"); !errors.As(err, &transitionErr) {
		t.Fatalf("a forbidden transition = %v, want a *TransitionError", err)
	}
	var staleErr *statemachine.StaleError[statemachine.ConnState]
	if err := machine.TransitionFrom(statemachine.Idle, statemachine.Processing, "stale"); !errors.As(err, &staleErr) {
		t.Fatalf("a stale transition = %v, want a *StaleError", err)
	}

	// wsmanager: a connection reserved for alice, with a message queued
	// before its transport exists, and her identity in its context.
	wsOpts := wsmanager.Options{WriteTimeout: time.Hour, IdleTimeout: time.Hour, Logger: quiet,
		Broker: quietBroker{}, BrokerKey: []byte(plantedBrokerKey), History: wsmanager.HistoryOptions{Messages: 10}}
	factory, err := wsmanager.NewFactory(wsOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = factory.Close(context.Background()) })
	uc := wsmanager.UserContext{UserID: "alice", ThreadID: "lobby", RequestID: "req-1"}
	reservation, err := factory.Reserve(auth.WithIdentity(ctx, identity), uc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reservation.Release)
	if err := reservation.Connection().Send(ctx, []byte(plantedMessage)); err != nil {
		t.Fatal(err)
	}
	if _, err := factory.SendToUser(ctx, "alice", []byte(plantedMessage)); err != nil {
		t.Fatal(err) // queued, and kept in alice's history
	}
	manager, err := factory.Manager(uc)
	if err != nil {
		t.Fatal(err)
	}
	handler := wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil })
	closeErr := wsmanager.CloseError{Code: 4000, Reason: plantedCloseReason}

	noSecret := func(values ...any) sample { return sample{values: values} }
	return map[string]sample{
		"auth.Authenticator":        {values: []any{static}, secrets: append([]string{plantedToken}, identitySecrets...)},
		"auth.BreakerOptions":       noSecret(auth.BreakerOptions{Failures: 3, Cooldown: time.Second}),
		"auth.BreakerState":         noSecret(auth.BreakerOpen),
		"auth.Extractor":            noSecret(auth.Extractor{AllowQuery: true}),
		"auth.FailureCounts":        noSecret(unified.Stats().Failures),
		"auth.Func":                 noSecret(auth.Func(static.Authenticate)),
		"auth.Identity":             {values: []any{identity, &identity}, secrets: identitySecrets},
		"auth.Introspection":        {values: []any{intro}, secrets: []string{plantedClientSecret, plantedURLPassword, plantedURLQuery}},
		"auth.IntrospectionOptions": {values: []any{introOpts, &introOpts}, secrets: []string{plantedClientSecret}},
		"auth.Options":              noSecret(auth.Options{Logger: quiet, Timeout: time.Second}),
		"auth.Source":               noSecret(auth.SourceHeader),
		"auth.Stats":                noSecret(unified.Stats()),
		"auth.Unified":              {values: []any{unified}, secrets: append([]string{plantedToken}, identitySecrets...)},

		"env.Env":         {values: []any{e, &e}, secrets: []string{plantedEnvValue}},
		"env.FieldError":  noSecret(fieldErr, *fieldErr),
		"env.KeyReport":   noSecret(report.Keys[0]),
		"env.Name":        noSecret(env.Production),
		"env.Report":      noSecret(report, &report),
		"env.Status":      noSecret(env.StatusInvalid),
		"env.SyntaxError": noSecret(syntaxErr, *syntaxErr),

		"middleware.AuthOptions":     noSecret(middleware.AuthOptions{Skip: []string{"/healthz"}, Realm: "chat"}),
		"middleware.Chain":           noSecret(chain, &chain),
		"middleware.Middleware":      noSecret(authn, &authn),
		"middleware.SessionData":     {values: []any{data}, secrets: []string{plantedSessionValue}},
		"middleware.SessionOptions":  {values: []any{sessionOpts, &sessionOpts}, secrets: []string{plantedSessionKey}},
		"middleware.StandardOptions": {values: []any{standard, &standard}, secrets: []string{plantedSessionKey, plantedToken, plantedEmail}},

		"statemachine.Conn":            noSecret(machine),
		"statemachine.ConnState":       noSecret(statemachine.ProcessingReady),
		"statemachine.Enum":            {none: "a type constraint: there are no values of it, only of types such as ConnState"},
		"statemachine.Machine":         noSecret(machine),
		"statemachine.Options":         noSecret(statemachine.Options{HistorySize: 4}),
		"statemachine.Observer":        {none: "an interface: wsmanager implements it with an unexported type, which is never handed out"},
		"statemachine.StaleError":      noSecret(staleErr, *staleErr),
		"statemachine.Stats":           noSecret(machine.Stats()),
		"statemachine.Table":           noSecret(statemachine.ConnTable()),
		"statemachine.Transition":      noSecret(machine.History()[0]),
		"statemachine.TransitionError": noSecret(transitionErr, *transitionErr),

		"wsmanager.AsyncLog":        {none: "an interface this module does not implement (contrib/natsbroker and contrib/redisbroker do)"},
		"wsmanager.BatchConn":       {none: "an interface this module does not implement (transport adapters live in other modules)"},
		"wsmanager.CodeCounts":      noSecret(factory.Stats().EndedByCode),
		"wsmanager.DeadlineConn":    {none: "an interface this module does not implement (transport adapters live in other modules)"},
		"wsmanager.DrainOptions":    noSecret(wsmanager.DrainOptions{Duration: time.Second, Code: 1012, Reason: "service restart"}),
		"wsmanager.Ending":          noSecret(wsmanager.Ending{Outcome: wsmanager.OutcomeServer, Code: 1001, Reason: "going away"}),
		"wsmanager.Interest":        {none: "an interface this module does not implement (contrib/natsbroker and contrib/redisbroker do)"},
		"wsmanager.LogRouter":       {none: "an interface this module does not implement (contrib/natsbroker and contrib/redisbroker do)"},
		"wsmanager.Outcome":         noSecret(wsmanager.OutcomeFailed),
		"wsmanager.RateLimit":       noSecret(wsmanager.RateLimit{Rate: 20, Burst: 40}),
		"wsmanager.Router":          {none: "an interface this module does not implement (contrib/natsbroker and contrib/redisbroker do)"},
		"wsmanager.SentCloseError":  noSecret(&wsmanager.SentCloseError{Code: 1009, Err: errors.New("a message over the read limit")}),
		"wsmanager.Broker":          {none: "an interface this module does not implement (contrib/natsbroker does)"},
		"wsmanager.CloseError":      {values: []any{closeErr, &closeErr}, secrets: []string{plantedCloseReason}},
		"wsmanager.Conn":            {none: "an interface this module does not implement (transport adapters live in other modules)"},
		"wsmanager.Connection":      {values: []any{reservation.Connection()}, secrets: []string{plantedMessage, plantedEmail, plantedScope}},
		"wsmanager.EndpointOptions": noSecret(wsmanager.EndpointOptions{Subprotocol: "chat.v1"}),
		"wsmanager.Factory":         {values: []any{factory}, secrets: []string{plantedMessage, plantedEmail, plantedBrokerKey}},
		"wsmanager.FullPolicy":      noSecret(wsmanager.DropOldest),
		"wsmanager.Handler":         noSecret(handler),
		"wsmanager.HistoryOptions":  noSecret(wsmanager.HistoryOptions{Messages: 10}),
		"wsmanager.Log":             {none: "an interface this module does not implement (contrib/natsbroker does)"},
		"wsmanager.Position":        noSecret(wsmanager.Position{Epoch: 1, Seq: 2}),
		"wsmanager.HandlerFunc":     noSecret(handler),
		"wsmanager.Manager":         {values: []any{manager}, secrets: []string{plantedMessage, plantedEmail}},
		"wsmanager.Options":         {values: []any{wsOpts, &wsOpts}, secrets: []string{plantedBrokerKey}},
		"wsmanager.PushConn":        {none: "an interface: the server-sent events transport implements it with an unexported type, never handed out; other implementations live in other modules (contrib/nbiows)"},
		"wsmanager.Receiver":        {none: "an interface the package implements with an unexported type that only a PushConn is given"},
		"wsmanager.SSEOptions":      noSecret(wsmanager.SSEOptions{ReadLimit: 1 << 10, PingInterval: time.Second, Retry: time.Second}),
		"wsmanager.Reservation":     {values: []any{reservation}, secrets: []string{plantedMessage, plantedEmail, plantedScope}},
		"wsmanager.Stats":           noSecret(factory.Stats()),
		"wsmanager.Upgrader":        {none: "an interface this module does not implement (transport adapters live in other modules)"},
		"wsmanager.UserContext":     noSecret(uc, &uc),

		"wsmanagertest.Client": {none: "the conformance suite's test client: it exists only with a live WebSocket server, which " +
			"this module has none of; it holds a socket and the handshake, and sends only the suite's own test values"},
		"wsmanagertest.Opcode":    noSecret(wsmanagertest.OpText),
		"wsmanagertest.Options":   noSecret(wsmanagertest.Options{ReadLimit: 1 << 10, OriginPatterns: []string{"example.test"}}),
		"wsmanagertest.Server":    noSecret(wsmanagertest.NewServer(t, memUpgrader{}, "chat.v1")),
		"wsmanagertest.Transport": noSecret(wsmanagertest.Transport{DefaultReadLimit: 1 << 10, Batch: true}),
	}
}
