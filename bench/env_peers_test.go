package bench

import (
	"context"
	"testing"
	"time"

	caarlos0 "github.com/caarlos0/env/v11"
	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-envconfig"
)

// envMap is the environment every decoder reads: 20 keys, all set, covering
// the kinds a service configuration holds.
func envMap() map[string]string {
	return map[string]string{
		"APP_NAME": "chat", "APP_HOST": "127.0.0.1", "APP_PORT": "8080",
		"APP_DEBUG": "true", "APP_WORKERS": "8", "APP_RATIO": "0.75",
		"APP_TIMEOUT": "5s", "APP_IDLE": "30m", "APP_ORIGINS": "a.example,b.example,c.example",
		"DB_HOST": "db", "DB_PORT": "5432", "DB_USER": "app", "DB_NAME": "chat",
		"DB_POOL": "20", "DB_SSL": "false", "DB_TIMEOUT": "2s",
		"CACHE_SIZE": "10000", "CACHE_TTL": "1m", "LOG_LEVEL": "info", "REGION": "eu-west-1",
	}
}

// envWant is what every decoder must produce from envMap, in field order.
func envWant() []any {
	return []any{
		"chat", "127.0.0.1", 8080, true, 8, 0.75, 5 * time.Second, 30 * time.Minute,
		[]string{"a.example", "b.example", "c.example"},
		"db", 5432, "app", "chat", 20, false, 2 * time.Second, uint64(10000), time.Minute, "info", "eu-west-1",
	}
}

type caarlos0Config struct {
	Name    string        `env:"APP_NAME"`
	Host    string        `env:"APP_HOST"`
	Port    int           `env:"APP_PORT"`
	Debug   bool          `env:"APP_DEBUG"`
	Workers int           `env:"APP_WORKERS"`
	Ratio   float64       `env:"APP_RATIO"`
	Timeout time.Duration `env:"APP_TIMEOUT"`
	Idle    time.Duration `env:"APP_IDLE"`
	Origins []string      `env:"APP_ORIGINS"`
	DBHost  string        `env:"DB_HOST"`
	DBPort  int           `env:"DB_PORT"`
	DBUser  string        `env:"DB_USER"`
	DBName  string        `env:"DB_NAME"`
	DBPool  int           `env:"DB_POOL"`
	DBSSL   bool          `env:"DB_SSL"`
	DBWait  time.Duration `env:"DB_TIMEOUT"`
	Cache   uint64        `env:"CACHE_SIZE"`
	TTL     time.Duration `env:"CACHE_TTL"`
	Level   string        `env:"LOG_LEVEL"`
	Region  string        `env:"REGION"`
}

func (c caarlos0Config) fields() []any {
	return []any{c.Name, c.Host, c.Port, c.Debug, c.Workers, c.Ratio, c.Timeout, c.Idle, c.Origins,
		c.DBHost, c.DBPort, c.DBUser, c.DBName, c.DBPool, c.DBSSL, c.DBWait, c.Cache, c.TTL, c.Level, c.Region}
}

type envconfigConfig struct {
	Name    string        `env:"APP_NAME"`
	Host    string        `env:"APP_HOST"`
	Port    int           `env:"APP_PORT"`
	Debug   bool          `env:"APP_DEBUG"`
	Workers int           `env:"APP_WORKERS"`
	Ratio   float64       `env:"APP_RATIO"`
	Timeout time.Duration `env:"APP_TIMEOUT"`
	Idle    time.Duration `env:"APP_IDLE"`
	Origins []string      `env:"APP_ORIGINS"`
	DBHost  string        `env:"DB_HOST"`
	DBPort  int           `env:"DB_PORT"`
	DBUser  string        `env:"DB_USER"`
	DBName  string        `env:"DB_NAME"`
	DBPool  int           `env:"DB_POOL"`
	DBSSL   bool          `env:"DB_SSL"`
	DBWait  time.Duration `env:"DB_TIMEOUT"`
	Cache   uint64        `env:"CACHE_SIZE"`
	TTL     time.Duration `env:"CACHE_TTL"`
	Level   string        `env:"LOG_LEVEL"`
	Region  string        `env:"REGION"`
}

func (c envconfigConfig) fields() []any {
	return []any{c.Name, c.Host, c.Port, c.Debug, c.Workers, c.Ratio, c.Timeout, c.Idle, c.Origins,
		c.DBHost, c.DBPort, c.DBUser, c.DBName, c.DBPool, c.DBSSL, c.DBWait, c.Cache, c.TTL, c.Level, c.Region}
}

func decodeCaarlos0(m map[string]string) (caarlos0Config, error) {
	var c caarlos0Config
	err := caarlos0.ParseWithOptions(&c, caarlos0.Options{Environment: m})
	return c, err
}

func decodeEnvconfig(l envconfig.Lookuper) (envconfigConfig, error) {
	var c envconfigConfig
	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: l})
	return c, err
}

// BenchmarkEnvDecode decodes the same 20-field struct from the same map.
// Building the map (or the ssot Env) is outside the loop for every decoder.
func BenchmarkEnvDecode(b *testing.B) {
	m := envMap()
	b.Run("20fields/caarlos0", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeCaarlos0(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("20fields/envconfig", func(b *testing.B) {
		b.ReportAllocs()
		l := envconfig.MapLookuper(m)
		for b.Loop() {
			if _, err := decodeEnvconfig(l); err != nil {
				b.Fatal(err)
			}
		}
	})
	benchEnvOurs(b, m)
}

func TestEnvPeersDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func() ([]any, error)
	}{
		{"caarlos0", func() ([]any, error) { c, err := decodeCaarlos0(envMap()); return c.fields(), err }},
		{"envconfig", func() ([]any, error) {
			c, err := decodeEnvconfig(envconfig.MapLookuper(envMap()))
			return c.fields(), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.decode()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(envWant(), got); diff != "" {
				t.Errorf("decoded fields (-want +got):\n%s", diff)
			}
		})
	}
}
