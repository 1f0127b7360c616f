package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
)

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	got, err := loadConfig(env.Map(nil))
	if err != nil {
		t.Fatalf("no configuration at all must start in development: %v", err)
	}
	want := Config{
		Addr:              "127.0.0.1:8080",
		JWTAudience:       "ssot-chat",
		JWTLeeway:         30 * time.Second,
		ReadLimit:         16384,
		QueueSize:         65536,
		ReadRate:          20,
		ReadBurst:         40,
		History:           1000,
		MaxRooms:          1000,
		WriteTimeout:      10 * time.Second,
		ShutdownTimeout:   10 * time.Second,
		Drain:             5 * time.Second,
		CloseAfterUpgrade: true,
		DevTokenTTL:       15 * time.Minute,
	}
	if diff := cmp.Diff(want, got.Config, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if got.Environment != env.Development {
		t.Errorf("environment %v, want development", got.Environment)
	}
}

func writePublicKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigProblems(t *testing.T) {
	t.Parallel()
	const secret32 = "0123456789abcdef0123456789abcdef"
	keyFile := writePublicKey(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		// want lists the settings the error must name, each once; nil
		// means the configuration is valid.
		want []string
		// secretValues must not appear in the error.
		secretValues []string
	}{
		{
			name: "production with nothing set",
			vars: map[string]string{"ENVIRONMENT": "production"},
			want: []string{"JWT_SECRET, JWT_PUBLIC_KEY_FILE or OIDC_ISSUER", "JWT_ISSUER"},
		},
		{
			name: "production with every problem at once",
			vars: map[string]string{
				"ENVIRONMENT":        "production",
				"JWT_SECRET":         "short-secret-value",
				"CHAT_QUEUE_SIZE":    "lots",
				"CHAT_WRITE_TIMEOUT": "-1s",
				"CHAT_ADDR":          "nowhere",
			},
			want:         []string{"JWT_SECRET", "JWT_ISSUER", "CHAT_QUEUE_SIZE", "CHAT_WRITE_TIMEOUT", "CHAT_ADDR"},
			secretValues: []string{"short-secret-value", "lots", "nowhere"},
		},
		{
			name: "production done right",
			vars: map[string]string{"ENVIRONMENT": "production", "JWT_SECRET": secret32, "JWT_ISSUER": "https://login.example.com"},
		},
		{
			name: "production with a public key",
			vars: map[string]string{"ENVIRONMENT": "prod", "JWT_PUBLIC_KEY_FILE": keyFile, "JWT_ISSUER": "https://login.example.com"},
		},
		{
			name: "staging needs a key but no issuer",
			vars: map[string]string{"ENVIRONMENT": "staging"},
			want: []string{"JWT_SECRET, JWT_PUBLIC_KEY_FILE or OIDC_ISSUER"},
		},
		{
			name: "unknown environment is checked as production",
			vars: map[string]string{"ENVIRONMENT": "prodution"},
			want: []string{"ENVIRONMENT", "JWT_SECRET, JWT_PUBLIC_KEY_FILE or OIDC_ISSUER", "JWT_ISSUER"},
		},
		{
			name:         "secret and key file together",
			vars:         map[string]string{"JWT_SECRET": secret32, "JWT_PUBLIC_KEY_FILE": keyFile},
			want:         []string{"JWT_SECRET, JWT_PUBLIC_KEY_FILE"},
			secretValues: []string{secret32},
		},
		{
			name:         "missing key file",
			vars:         map[string]string{"JWT_PUBLIC_KEY_FILE": "/nonexistent/private-path.pem"},
			want:         []string{"JWT_PUBLIC_KEY_FILE"},
			secretValues: []string{"private-path"},
		},
		{
			name:         "key file without a key",
			vars:         map[string]string{"JWT_PUBLIC_KEY_FILE": garbage},
			want:         []string{"JWT_PUBLIC_KEY_FILE"},
			secretValues: []string{garbage},
		},
		{
			name: "production with an OpenID provider",
			vars: map[string]string{"ENVIRONMENT": "production", "OIDC_ISSUER": "https://login.example.com", "OIDC_AUDIENCE": "chat-api"},
		},
		{
			name: "staging with a provider but no audience",
			vars: map[string]string{"ENVIRONMENT": "staging", "OIDC_ISSUER": "https://login.example.com"},
			want: []string{"OIDC_AUDIENCE"},
		},
		{
			name:         "provider and secret together",
			vars:         map[string]string{"OIDC_ISSUER": "https://login.example.com", "OIDC_AUDIENCE": "chat-api", "JWT_SECRET": secret32},
			want:         []string{"OIDC_ISSUER, JWT_SECRET, JWT_PUBLIC_KEY_FILE"},
			secretValues: []string{secret32},
		},
		{
			name: "audience without a provider",
			vars: map[string]string{"OIDC_AUDIENCE": "chat-api"},
			want: []string{"OIDC_AUDIENCE"},
		},
		{
			name: "short secret in development",
			vars: map[string]string{"JWT_SECRET": "tiny"},
			want: []string{"JWT_SECRET"},
		},
		{
			name: "non-positive limits",
			vars: map[string]string{"CHAT_READ_LIMIT": "0", "CHAT_QUEUE_SIZE": "-1", "CHAT_DEV_TOKEN_TTL": "0s", "JWT_LEEWAY": "-5s", "CHAT_MAX_ROOMS": "0"},
			want: []string{"CHAT_READ_LIMIT", "CHAT_QUEUE_SIZE", "CHAT_MAX_ROOMS", "CHAT_DEV_TOKEN_TTL", "JWT_LEEWAY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(env.Map(tt.vars))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid configuration refused: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "chat: refusing to start") {
				t.Errorf("message does not start with the refusal: %q", msg)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%s", len(ce.Problems), len(tt.want), msg)
			}
			for _, key := range tt.want {
				if !strings.Contains(msg, key) {
					t.Errorf("message does not name %s:\n%s", key, msg)
				}
			}
			for _, v := range tt.secretValues {
				if strings.Contains(msg, v) {
					t.Errorf("message contains the value %q:\n%s", v, msg)
				}
			}
			if !errors.Is(err, env.ErrMissing) && !errors.Is(err, env.ErrInvalidValue) {
				t.Errorf("error wraps neither env.ErrMissing nor env.ErrInvalidValue")
			}
		})
	}
}

// TestUnreachableProviderRefusesToStart: with OIDC_ISSUER the service
// discovers its provider before listening, and refuses to start, saying
// which setting, when the provider cannot be reached.
func TestUnreachableProviderRefusesToStart(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	listened := false
	err = run(t.Context(), env.Map(map[string]string{"ENVIRONMENT": "production", "CHAT_ADDR": "127.0.0.1:0", "OIDC_ISSUER": issuer, "OIDC_AUDIENCE": "chat-api"}),
		io.Discard, func(net.Addr) { listened = true })
	if !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "OIDC_ISSUER") {
		t.Fatalf("run() = %v, want ErrUnavailable naming OIDC_ISSUER", err)
	}
	if listened {
		t.Error("the service listened before refusing")
	}
}

// TestProductionRefusesToStart runs the service the way main does: it must
// return the configuration error before binding anything.
func TestProductionRefusesToStart(t *testing.T) {
	t.Parallel()
	listened := false
	err := run(context.Background(), env.Map(map[string]string{"ENVIRONMENT": "production", "CHAT_ADDR": "127.0.0.1:0"}),
		io.Discard, func(net.Addr) { listened = true })
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Environment != env.Production {
		t.Fatalf("run() = %v, want a *ConfigError for production", err)
	}
	if listened {
		t.Error("the service listened before refusing")
	}
}

func TestLoadEnvLayersOSOverDotenv(t *testing.T) {
	// Not parallel: it sets a process environment variable for env.OS.
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("CHAT_QUEUE_SIZE=32\nCHAT_READ_LIMIT=1024\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHAT_QUEUE_SIZE", "64")
	e, err := loadEnv(path, true)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(e)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QueueSize != 64 || cfg.ReadLimit != 1024 {
		t.Errorf("queue %d (want 64 from the OS), read limit %d (want 1024 from .env)", cfg.QueueSize, cfg.ReadLimit)
	}
	if _, err := loadEnv(filepath.Join(dir, "absent.env"), false); err != nil {
		t.Errorf("a missing default .env is not an error: %v", err)
	}
}

// TestEnvFileFlag checks that a dotenv file named on the command line must
// exist, so a typo in -env-file cannot start the service with none of its
// settings (in development, where no setting is required), while the
// default .env may be absent.
func TestEnvFileFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dangling := filepath.Join(dir, "dangling.env")
	if err := os.Symlink(filepath.Join(dir, "not-mounted.env"), dangling); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"default, absent", nil, false},
		{"named, absent", []string{"-env-file", filepath.Join(dir, "nonexistent.env")}, true},
		{"named, dangling symbolic link", []string{"-env-file=" + dangling}, true},
		{"named as the default, absent", []string{"-env-file", defaultEnvFile}, true},
		{"none", []string{"-env-file", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, mustExist, err := parseFlags(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if path == defaultEnvFile {
				// The default is relative to the working directory; look
				// for it in an empty one.
				path = filepath.Join(dir, path)
			}
			_, err = loadEnv(path, mustExist)
			if (err != nil) != tt.wantErr {
				t.Errorf("loadEnv after %q = %v, want an error: %v", tt.args, err, tt.wantErr)
			}
		})
	}
}
