package env_test

import (
	"testing"

	"github.com/ssotkit/ssot/env"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value, want string
	}{
		{"PASSWORD", "hunter2", env.Redacted},
		{"DB_PASSWORD_FILE", "/run/secrets/db", env.Redacted},
		{"db_passwd", "x", env.Redacted},
		{"MYSQL_PWD", "x", env.Redacted},
		{"CLIENT_SECRET", "x", env.Redacted},
		{"GITHUB_TOKEN", "ghp_x", env.Redacted},
		{"accessToken", "x", env.Redacted},
		{"API_KEY", "x", env.Redacted},
		{"apiKey", "x", env.Redacted},
		{"AWS_SECRET_ACCESS_KEY", "x", env.Redacted},
		{"GOOGLE_APPLICATION_CREDENTIALS", "x", env.Redacted},
		{"PRIVATE_PEM", "x", env.Redacted},
		{"BASIC_AUTH", "u:p", env.Redacted},
		{"TLS_CERT", "x", env.Redacted},
		{"JWT", "x", env.Redacted},
		{"PASSWORD_SALT", "x", env.Redacted},
		{"WEBHOOK_SIGNATURE", "x", env.Redacted},
		{"SESSION_KEYS", "x", env.Redacted},
		{"COOKIE_HASH", "x", env.Redacted},
		{"SENTRY_DSN", "https://abc@sentry.io/1", env.Redacted},
		{"HMAC", "x", env.Redacted},
		{"TOTP_SEED", "x", env.Redacted},
		{"WALLET_MNEMONIC", "x", env.Redacted},
		{"LICENSE", "x", env.Redacted},
		{"PASSWORD", "", env.Redacted}, // not even emptiness shows
		{"EMPTY", "", ""},
		{"PORT", "8080", "8080"},
		{"LOG_LEVEL", "debug", "debug"},
		{"DB_HOST", "db.internal", "db.internal"},
		{"DATABASE_URL", "postgres://app:hunter2@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"UPSTREAM", "https://ghp_abc@example.com/x", "https://xxxxx@example.com/x"},
		{"UPSTREAM", "https://example.com/x", "https://example.com/x"},
		{"CONTACT", "ops@example.com", "ops@example.com"},
		{"BROKEN_URL", "http://user:pw@[::1/x", "http://user:xxxxx@[::1/x"},
		// Every URL of a list, each on its own.
		{"NATS_URL", "nats://a:pw1@h1:4222,nats://b:pw2@h2:4222", "nats://a:xxxxx@h1:4222,nats://b:xxxxx@h2:4222"},
		{"NATS_URL", "nats://a:pw1@h1:4222, nats://b:pw2@h2:4222", "nats://a:xxxxx@h1:4222, nats://b:xxxxx@h2:4222"},
		{"SERVERS", "nats://h0:4222 nats://tok@h1:4222;nats://b:pw2@h2", "nats://h0:4222 nats://xxxxx@h1:4222;nats://b:xxxxx@h2"},
		// Everything up to the last "@" before the host is credentials.
		{"DATABASE_URL", "postgres://app:p@ss/w0rd@db/app", "postgres://app:xxxxx@db/app"},
		{"DATABASE_URL", "postgres://app:a,b@db/app", "postgres://app:xxxxx@db/app"},
		{"DATABASE_URL", "postgres://app:x://y@db/app", "postgres://app:xxxxx@db/app"},
		{"DATABASE_URL", "jdbc:postgresql://app:pw@db/app", "jdbc:postgresql://app:xxxxx@db/app"},
		{"REDIS_URL", "redis://:pw@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"UPSTREAM", "proxy (http://u:pw@h) then", "proxy (http://u:xxxxx@h) then"},
		// An "@" in a path is taken for credentials: more is masked, never less.
		{"PROFILE", "https://example.com/u/bob@example.org", "https://xxxxx@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			if got := env.Redact(tt.key, tt.value); got != tt.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tt.key, tt.value, got, tt.want)
			}
		})
	}
}

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"API_TOKEN": true, "password": true, "X_PRIVATE_KEY": true,
		"PORT": false, "ADDR": false, "REGION": false, "ENVIRONMENT": false, "": false,
	} {
		if got := env.IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}
