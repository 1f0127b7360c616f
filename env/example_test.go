package env_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ssotkit/ssot/env"
)

// Config is a service's configuration, read from the environment once at
// start-up and passed to whatever needs it.
type Config struct {
	Addr     string        `env:"EXAMPLE_ADDR" default:":8080"`
	Token    string        `env:"EXAMPLE_API_TOKEN,required,secret"`
	Timeout  time.Duration `env:"EXAMPLE_TIMEOUT" default:"5s"`
	Origins  []string      `env:"EXAMPLE_ORIGINS"`
	Database struct {
		Host string `env:"HOST" default:"localhost"`
		Port int    `env:"PORT" default:"5432"`
	} `env:",prefix=EXAMPLE_DB_"`
}

// A .env file under the process environment: the process environment wins,
// and the .env file fills in the rest.
func Example() {
	// env.LoadOptional(".env") reads a file the same way, or nothing when
	// there is none.
	dot, err := env.Parse(".env", strings.NewReader(`
# local development
EXAMPLE_API_TOKEN=dev-token
EXAMPLE_ORIGINS=http://localhost:3000, http://127.0.0.1:3000
export EXAMPLE_DB_HOST=db.local
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := env.Layer(env.OS(), dot)

	var cfg Config
	if err := env.Decode(e, &cfg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Addr, cfg.Timeout, cfg.Origins, cfg.Database.Host, cfg.Database.Port)
	fmt.Println("EXAMPLE_DB_HOST from", e.Source("EXAMPLE_DB_HOST"))
	// Output:
	// :8080 5s [http://localhost:3000 http://127.0.0.1:3000] db.local 5432
	// EXAMPLE_DB_HOST from .env
}

// A developer's .env may be absent; a file named on the command line must
// exist.
func ExampleLoadOptional() {
	dot, err := env.LoadOptional("testdata/no-such.env")
	fmt.Println(dot.Len(), err)
	_, err = env.Load("testdata/no-such.env")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// 0 <nil>
	// true
}

// newServer stands for code under test: it takes its environment as a value.
func newServer(e env.Env) (string, error) {
	var cfg Config
	if err := env.Decode(e, &cfg); err != nil {
		return "", err
	}
	return "listening on " + cfg.Addr, nil
}

// Tests give code its environment with Map, so they run in parallel and
// never touch the process environment; With varies one key.
func ExampleMap() {
	base := env.Map(map[string]string{"EXAMPLE_API_TOKEN": "test-token"})

	fmt.Println(newServer(base))
	fmt.Println(newServer(base.With(map[string]string{"EXAMPLE_ADDR": "127.0.0.1:0"})))
	_, err := newServer(base.Without("EXAMPLE_API_TOKEN"))
	fmt.Println(errors.Is(err, env.ErrMissing))
	// Output:
	// listening on :8080 <nil>
	// listening on 127.0.0.1:0 <nil>
	// true
}

// Decode reports every problem at once, naming keys and never values.
func ExampleDecode_errors() {
	e := env.Map(map[string]string{
		"EXAMPLE_TIMEOUT": "5 seconds",
		"EXAMPLE_DB_PORT": "99999999999999999999",
	})
	var cfg Config
	err := env.Decode(e, &cfg)
	fmt.Println(err)
	fmt.Println(errors.Is(err, env.ErrMissing), errors.Is(err, env.ErrInvalidValue))
	// Output:
	// env: EXAMPLE_API_TOKEN (field Token): missing
	// env: EXAMPLE_TIMEOUT (field Timeout): invalid value: not a duration (such as 300ms, 1.5s or 2h45m)
	// env: EXAMPLE_DB_PORT (field Database.Port): invalid value: out of range for int
	// true true
}

// Check describes the configuration for a start-up log or a health
// endpoint: keys, status and source, no values.
func ExampleCheck() {
	e := env.Map(map[string]string{"EXAMPLE_API_TOKEN": "t0k3n", "EXAMPLE_DB_PORT": "none"})
	report, err := env.Check(e, (*Config)(nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report)
	fmt.Println("ok:", report.OK(), "invalid:", report.Invalid())
	// Output:
	// KEY                STATUS   SOURCE  NOTE
	// EXAMPLE_ADDR       default
	// EXAMPLE_API_TOKEN  present  map     required, secret
	// EXAMPLE_TIMEOUT    default
	// EXAMPLE_ORIGINS    unset
	// EXAMPLE_DB_HOST    default
	// EXAMPLE_DB_PORT    invalid          not an integer
	// ok: false invalid: [EXAMPLE_DB_PORT]
}

// Dotenv values are text, never commands or references.
func ExampleParse() {
	e, err := env.Parse(".env", strings.NewReader(`
GREETING="hello\tworld"
LITERAL='$HOME and $(whoami) stay as written'
PORT=8080 # a comment
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, kv := range e.Environ() {
		fmt.Printf("%q\n", kv)
	}
	// Output:
	// "GREETING=hello\tworld"
	// "LITERAL=$HOME and $(whoami) stay as written"
	// "PORT=8080"
}

// A malformed file is reported by name and line, without the line's text.
func ExampleParse_syntaxError() {
	_, err := env.Parse("prod.env", strings.NewReader("A=1\nPRIVATE_KEY=\"-----BEGIN KEY-----\nMIIB...\n"))
	fmt.Println(err)
	// Output:
	// env: syntax error: prod.env:2: unterminated double-quoted value
}

func ExampleEnv_Name() {
	for _, v := range []map[string]string{nil, {"ENVIRONMENT": "prod"}, {"ENVIRONMENT": "prodution"}} {
		name, err := env.Map(v).Name()
		fmt.Println(name, err)
	}
	// Output:
	// development <nil>
	// production <nil>
	// production env: ENVIRONMENT: invalid value: want development, test, staging or production (or dev, testing, stage, prod)
}

func ExampleEnv_Require() {
	e := env.Map(map[string]string{"A": "", "B": "set"})
	fmt.Println(e.Require("A", "B", "C", "D"))
	// Output:
	// env: C: missing
	// env: D: missing
}

func ExampleRedact() {
	fmt.Println(env.Redact("DB_PASSWORD", "hunter2"))
	fmt.Println(env.Redact("DATABASE_URL", "postgres://app:hunter2@db/app"))
	fmt.Println(env.Redact("PORT", "8080"))
	// Output:
	// [REDACTED]
	// postgres://app:xxxxx@db/app
	// 8080
}

// Printing an Env shows key names, never values.
func ExampleEnv_String() {
	e := env.Map(map[string]string{"API_TOKEN": "t0k3n", "PORT": "8080"})
	fmt.Println(e)
	fmt.Printf("%#v\n", e)
	// Output:
	// env.Env(2 keys: API_TOKEN, PORT)
	// env.Env(2 keys: API_TOKEN, PORT)
}
