package env_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

// benchVars is a 20-key service configuration, every key set.
func benchVars() map[string]string {
	return map[string]string{
		"APP_NAME": "chat", "APP_HOST": "127.0.0.1", "APP_PORT": "8080",
		"APP_DEBUG": "true", "APP_WORKERS": "8", "APP_RATIO": "0.75",
		"APP_TIMEOUT": "5s", "APP_IDLE": "30m", "APP_ORIGINS": "a.example,b.example,c.example",
		"DB_HOST": "db", "DB_PORT": "5432", "DB_USER": "app", "DB_NAME": "chat",
		"DB_POOL": "20", "DB_SSL": "false", "DB_TIMEOUT": "2s",
		"CACHE_SIZE": "10000", "CACHE_TTL": "1m", "LOG_LEVEL": "info", "REGION": "eu-west-1",
	}
}

type bench20 struct {
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

// bench20Nested is bench20 with the DB keys in a prefixed struct.
type bench20Nested struct {
	Name    string        `env:"APP_NAME"`
	Host    string        `env:"APP_HOST"`
	Port    int           `env:"APP_PORT"`
	Debug   bool          `env:"APP_DEBUG"`
	Workers int           `env:"APP_WORKERS"`
	Ratio   float64       `env:"APP_RATIO"`
	Timeout time.Duration `env:"APP_TIMEOUT"`
	Idle    time.Duration `env:"APP_IDLE"`
	Origins []string      `env:"APP_ORIGINS"`
	DB      struct {
		Host string        `env:"HOST"`
		Port int           `env:"PORT"`
		User string        `env:"USER"`
		Name string        `env:"NAME"`
		Pool int           `env:"POOL"`
		SSL  bool          `env:"SSL"`
		Wait time.Duration `env:"TIMEOUT"`
	} `env:",prefix=DB_"`
	Cache  uint64        `env:"CACHE_SIZE"`
	TTL    time.Duration `env:"CACHE_TTL"`
	Level  string        `env:"LOG_LEVEL"`
	Region string        `env:"REGION"`
}

// BenchmarkDecode compares Decode with the code it replaces: 20 Lookups and
// strconv calls written out by hand. The ratio is the price of the tags.
func BenchmarkDecode(b *testing.B) {
	e := env.Map(benchVars())
	b.Run("20fields", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c bench20
			if err := env.Decode(e, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("20fields/nested", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c bench20Nested
			if err := env.Decode(e, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("20fields/by-hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeByHand(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("20fields/check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.Check(e, (*bench20)(nil)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func decodeByHand(e env.Env) (bench20, error) {
	var c bench20
	var err error
	str := func(k string) string { v, _ := e.Lookup(k); return v }
	num := func(k string) int {
		n, perr := strconv.Atoi(str(k))
		if perr != nil {
			err = perr
		}
		return n
	}
	dur := func(k string) time.Duration {
		d, perr := time.ParseDuration(str(k))
		if perr != nil {
			err = perr
		}
		return d
	}
	flag := func(k string) bool {
		v, perr := strconv.ParseBool(str(k))
		if perr != nil {
			err = perr
		}
		return v
	}
	c.Name, c.Host, c.Port, c.Debug, c.Workers = str("APP_NAME"), str("APP_HOST"), num("APP_PORT"), flag("APP_DEBUG"), num("APP_WORKERS")
	c.Ratio, _ = strconv.ParseFloat(str("APP_RATIO"), 64)
	c.Timeout, c.Idle = dur("APP_TIMEOUT"), dur("APP_IDLE")
	c.Origins = strings.Split(str("APP_ORIGINS"), ",")
	c.DBHost, c.DBPort, c.DBUser, c.DBName, c.DBPool = str("DB_HOST"), num("DB_PORT"), str("DB_USER"), str("DB_NAME"), num("DB_POOL")
	c.DBSSL, c.DBWait = flag("DB_SSL"), dur("DB_TIMEOUT")
	c.Cache, _ = strconv.ParseUint(str("CACHE_SIZE"), 10, 64)
	c.TTL, c.Level, c.Region = dur("CACHE_TTL"), str("LOG_LEVEL"), str("REGION")
	return c, err
}

// BenchmarkLookup measures the read every configuration access makes,
// against a plain map index as the floor.
func BenchmarkLookup(b *testing.B) {
	m := benchVars()
	e := env.Map(m)
	layered := env.Layer(env.Map(map[string]string{"OTHER": "x"}), e, env.Map(map[string]string{"APP_PORT": "1"}))
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := e.Lookup("DB_TIMEOUT"); !ok {
				b.Fatal("unset")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := e.Lookup("NOT_THERE"); ok {
				b.Fatal("set")
			}
		}
	})
	b.Run("layered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := layered.Lookup("DB_TIMEOUT"); !ok {
				b.Fatal("unset")
			}
		}
	})
	b.Run("map-floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := m["DB_TIMEOUT"]; !ok {
				b.Fatal("unset")
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	for k, v := range benchVars() {
		sb.WriteString("# " + k + "\nexport " + k + "=\"" + v + "\"\n")
	}
	src := sb.String()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.Parse("bench", strings.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeByHandAgrees(t *testing.T) {
	t.Parallel()
	e := env.Map(benchVars())
	var c bench20
	if err := env.Decode(e, &c); err != nil {
		t.Fatal(err)
	}
	byHand, err := decodeByHand(e)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byHand, c); diff != "" {
		t.Errorf("Decode and the hand-written decoder disagree (-by hand +Decode):\n%s", diff)
	}
}
