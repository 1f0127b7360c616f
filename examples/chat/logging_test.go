package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestLogsAtInfo runs the service at the default LOG_LEVEL and checks that
// what an operator needs is there: every refused token (HTTP and
// WebSocket), every WebSocket that ended with its user, room and close
// codes, and no per-request access log.
func TestLogsAtInfo(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	if status, _ := s.get(t, "/api/me", "garbage-token"); status != http.StatusUnauthorized {
		t.Fatalf("/api/me with a bad token: %d", status)
	}
	refused, _, err := s.dialBrowserStyle(t, "lobby", "garbage-token")
	if err != nil {
		t.Fatalf("a refused WebSocket is upgraded, then closed: %v", err)
	}
	if code, _ := closeStatus(t, refused); code != websocket.StatusPolicyViolation {
		t.Errorf("refused WebSocket closed with %d, want 1008", code)
	}
	alice := s.connect(t, "alice", "lobby")
	if err := alice.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	// The server has closed its side once alice's connection is gone.
	deadline := time.Now().Add(testTimeout)
	for s.health(t).Connections.ConnsActive != 0 {
		if time.Now().After(deadline) {
			t.Fatal("alice's connection is still registered after she closed it")
		}
	}
	bob := s.connect(t, "bob", "games")
	bobClosed := make(chan websocket.StatusCode, 1)
	go func() { // bob reads on, as a browser does, and sees the close
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for {
			if _, _, err := bob.Read(ctx); err != nil {
				bobClosed <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	if err := s.shutdown(t); err != nil {
		t.Fatal(err)
	}
	if code := <-bobClosed; code != websocket.StatusGoingAway {
		t.Errorf("bob closed with %d, want 1001", code)
	}

	logs := s.logs.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`level=INFO msg="chat: authentication failed" err="auth: invalid token.*" request_id=\w+`),
		regexp.MustCompile(`level=INFO msg="chat: websocket refused" room=lobby code=1008 reason=unauthorized request_id=\w+`),
		regexp.MustCompile(`level=INFO msg="chat: disconnected" user=alice room=lobby outcome=peer code=1000 request_id=\w+`),
		regexp.MustCompile(`level=INFO msg="chat: disconnected" user=bob room=games outcome=server code=1001 reason="going away" request_id=\w+`),
	} {
		if !want.MatchString(logs) {
			t.Errorf("no log line matches %s in:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, `msg="chat: authentication failed"`); n != 2 {
		t.Errorf("%d authentication failures logged, want 2 (HTTP and WebSocket):\n%s", n, logs)
	}
	if strings.Contains(logs, "level=DEBUG") || strings.Contains(logs, "garbage-token") {
		t.Errorf("Info logs hold a Debug line or a token:\n%s", logs)
	}
}

func TestLogLevel(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"LOG_LEVEL": "debug"}, hooks{})
	s.get(t, "/healthz", "")
	if err := s.shutdown(t); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`level=DEBUG msg=http method=GET path=/healthz status=200`).MatchString(s.logs.String()) {
		t.Errorf("LOG_LEVEL=debug logs no access line:\n%s", s.logs.String())
	}

	_, err := loadConfig(env.Map(map[string]string{"LOG_LEVEL": "loud"}))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "LOG_LEVEL") || !errors.Is(err, env.ErrInvalidValue) {
		t.Errorf("LOG_LEVEL=loud: %v, want a ConfigError naming LOG_LEVEL", err)
	}
}

// TestHealthzNames checks /healthz's JSON: snake_case names throughout (the
// keys of "sources" are setting names, not field names) and the breaker's
// state as text.
func TestHealthzNames(t *testing.T) {
	t.Parallel()
	s := start(t, nil, hooks{})
	_, body := s.get(t, "/healthz", "")
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok || path == ".config.sources" {
			return
		}
		for k, v := range m {
			if !snake.MatchString(k) {
				t.Errorf("/healthz name %s.%s is not snake_case", path, k)
			}
			walk(path+"."+k, v)
		}
	}
	walk("", doc)
	if got := doc["auth"].(map[string]any)["breaker"]; got != "closed" {
		t.Errorf(`/healthz auth.breaker = %v, want "closed"`, got)
	}
}

// TestConfigErrorForAnUnknownEnvironment checks that a mistyped ENVIRONMENT
// is reported as such, not as "refusing to start in production".
func TestConfigErrorForAnUnknownEnvironment(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(env.Map(map[string]string{"ENVIRONMENT": "prodution"}))
	if err == nil {
		t.Fatal("a mistyped ENVIRONMENT started the service")
	}
	msg := err.Error()
	if strings.Contains(msg, "refusing to start in production") || !strings.Contains(msg, "ENVIRONMENT names no known environment") {
		t.Errorf("error for a mistyped ENVIRONMENT:\n%s", msg)
	}
	if strings.Contains(msg, "prodution") {
		t.Errorf("the error repeats the value:\n%s", msg)
	}
}

// deadlineConn is a transport that implements wsmanager.DeadlineConn.
type deadlineConn struct{ wsmanager.Conn }

func (deadlineConn) WriteMessages([][]byte, time.Time) error  { return nil }
func (deadlineConn) Abort()                                   {}
func (deadlineConn) CloseWithin(int, string, time.Time) error { return nil }
func (deadlineConn) Read(context.Context) ([]byte, error)     { return nil, nil }

type fixedUpgrader struct{ conn wsmanager.Conn }

func (u fixedUpgrader) Upgrade(http.ResponseWriter, *http.Request, string) (wsmanager.Conn, error) {
	return u.conn, nil
}

// TestLoggingKeepsTheWriteContract checks that wrapping a transport for
// logging keeps its wsmanager.DeadlineConn, which the connection's writer
// looks for, and claims none that the transport lacks.
func TestLoggingKeepsTheWriteContract(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/ws", nil)
	up := loggingUpgrader{up: fixedUpgrader{conn: deadlineConn{}}, logger: slog.New(slog.DiscardHandler)}
	c, err := up.Upgrade(httptest.NewRecorder(), r, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(wsmanager.DeadlineConn); !ok {
		t.Errorf("the logged connection %T lost DeadlineConn", c)
	}
	up = loggingUpgrader{up: fixedUpgrader{conn: struct{ wsmanager.Conn }{}}, logger: slog.New(slog.DiscardHandler)}
	if c, _ := up.Upgrade(httptest.NewRecorder(), r, ""); c == nil {
		t.Error("no connection")
	} else if _, ok := c.(wsmanager.DeadlineConn); ok {
		t.Errorf("the logged connection %T claims a DeadlineConn its transport lacks", c)
	}
}
