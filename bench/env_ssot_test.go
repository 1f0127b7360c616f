package bench

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

type ssotConfig struct {
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

func (c ssotConfig) fields() []any {
	return []any{c.Name, c.Host, c.Port, c.Debug, c.Workers, c.Ratio, c.Timeout, c.Idle, c.Origins,
		c.DBHost, c.DBPort, c.DBUser, c.DBName, c.DBPool, c.DBSSL, c.DBWait, c.Cache, c.TTL, c.Level, c.Region}
}

func benchEnvOurs(b *testing.B, m map[string]string) {
	b.Run("20fields/ssot", func(b *testing.B) {
		b.ReportAllocs()
		e := env.Map(m)
		for b.Loop() {
			var c ssotConfig
			if err := env.Decode(e, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEnvSSOTDecode(t *testing.T) {
	t.Parallel()
	var c ssotConfig
	if err := env.Decode(env.Map(envMap()), &c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(envWant(), c.fields()); diff != "" {
		t.Errorf("decoded fields (-want +got):\n%s", diff)
	}
}
