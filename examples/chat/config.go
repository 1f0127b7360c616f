package main

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/ssotkit/ssot/contrib/jwtauth"
	"github.com/ssotkit/ssot/env"
)

// Config is the chat service's configuration, decoded from the environment.
type Config struct {
	Addr              string        `env:"CHAT_ADDR" default:"127.0.0.1:8080"`
	JWTSecret         string        `env:"JWT_SECRET,secret"`
	JWTPublicKeyFile  string        `env:"JWT_PUBLIC_KEY_FILE"`
	JWTIssuer         string        `env:"JWT_ISSUER"`
	JWTAudience       string        `env:"JWT_AUDIENCE" default:"ssot-chat"`
	JWTLeeway         time.Duration `env:"JWT_LEEWAY" default:"30s"`
	OIDCIssuer        string        `env:"OIDC_ISSUER"`
	OIDCAudience      string        `env:"OIDC_AUDIENCE"`
	AllowedOrigins    []string      `env:"CHAT_ALLOWED_ORIGINS"`
	ReadLimit         int64         `env:"CHAT_READ_LIMIT" default:"16384"`
	QueueSize         int           `env:"CHAT_QUEUE_SIZE" default:"65536"`
	ReadRate          float64       `env:"CHAT_READ_RATE" default:"20"`
	ReadBurst         int           `env:"CHAT_READ_BURST" default:"40"`
	History           int           `env:"CHAT_HISTORY" default:"1000"`
	MaxRooms          int           `env:"CHAT_MAX_ROOMS" default:"1000"`
	WriteTimeout      time.Duration `env:"CHAT_WRITE_TIMEOUT" default:"10s"`
	ShutdownTimeout   time.Duration `env:"CHAT_SHUTDOWN_TIMEOUT" default:"10s"`
	Drain             time.Duration `env:"CHAT_DRAIN" default:"5s"`
	CloseAfterUpgrade bool          `env:"CHAT_CLOSE_AFTER_UPGRADE" default:"true"`
	DevTokenTTL       time.Duration `env:"CHAT_DEV_TOKEN_TTL" default:"15m"`
	LogLevel          slog.Level    `env:"LOG_LEVEL" default:"info"`
	Broker            string        `env:"CHAT_BROKER,secret"`
	BrokerKey         string        `env:"CHAT_BROKER_KEY,secret"`
}

// settings is a validated Config with what validation derived from it.
type settings struct {
	Config
	// Environment comes from ENVIRONMENT through Env.Name.
	Environment env.Name
	// publicKey is JWTPublicKeyFile, parsed.
	publicKey crypto.PublicKey
}

// ConfigError lists every setting that stops the service from starting. Its
// message names settings, never their values.
type ConfigError struct {
	// Environment is the environment the settings were checked for: the
	// one ENVIRONMENT names, or Production when ENVIRONMENT names none.
	Environment env.Name
	// UnknownEnvironment is set when ENVIRONMENT names no environment.
	UnknownEnvironment bool
	Problems           []error
}

// Error returns one line per problem under a heading naming the environment,
// or saying that ENVIRONMENT names none.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.UnknownEnvironment {
		b.WriteString("chat: refusing to start: ENVIRONMENT names no known environment, so every setting was checked as for production; fix these settings:")
	} else {
		fmt.Fprintf(&b, "chat: refusing to start in %s; fix these settings:", e.Environment)
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.Is finds env.ErrMissing and friends.
func (e *ConfigError) Unwrap() []error { return e.Problems }

// problem is one configuration problem that env.Decode cannot see because
// it depends on several settings or on the environment's name.
func problem(sentinel error, key, why string) error {
	return fmt.Errorf("%s: %w (%s)", key, sentinel, why)
}

// loadConfig decodes and validates the configuration. Every problem is
// collected, so a deployment is fixed in one round instead of one setting
// per restart.
func loadConfig(e env.Env) (settings, error) {
	var cfg settings
	var problems []error
	name, err := e.Name()
	unknown := err != nil
	if unknown {
		// Treat an unreadable name as the strictest environment, so the
		// list below is complete for production.
		name = env.Production
		problems = append(problems, fmt.Errorf("ENVIRONMENT: %w", err))
	}
	cfg.Environment = name
	var decodeErrs []error
	if err := env.Decode(e, &cfg.Config); err != nil {
		decodeErrs = flatten(err)
		problems = append(problems, decodeErrs...)
	}
	// A key Decode already reported holds a zero value now; checking it
	// again would list the same setting twice.
	reported := func(key string) bool {
		for _, err := range decodeErrs {
			if strings.Contains(err.Error(), key) {
				return true
			}
		}
		return false
	}
	for _, err := range cfg.validate() {
		if !reported(keyOf(err)) {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return settings{}, &ConfigError{Environment: name, UnknownEnvironment: unknown, Problems: problems}
	}
	return cfg, nil
}

// flatten unpacks errors.Join, so each problem prints on its own line.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// keyOf returns the setting a validate problem names: its text up to ": ".
func keyOf(err error) string {
	key, _, _ := strings.Cut(err.Error(), ": ")
	return key
}

// validate checks what a struct tag cannot express.
func (c *settings) validate() []error {
	var p []error
	dev := c.Environment == env.Development
	oidc := c.OIDCIssuer != ""
	switch {
	case oidc && (c.JWTSecret != "" || c.JWTPublicKeyFile != ""):
		p = append(p, problem(env.ErrInvalidValue, "OIDC_ISSUER, JWT_SECRET, JWT_PUBLIC_KEY_FILE", "set one token source, not several"))
	case oidc:
		if c.OIDCAudience == "" {
			p = append(p, problem(env.ErrMissing, "OIDC_AUDIENCE", "required with OIDC_ISSUER: this service's identifier at the provider"))
		}
	case c.JWTSecret != "" && c.JWTPublicKeyFile != "":
		p = append(p, problem(env.ErrInvalidValue, "JWT_SECRET, JWT_PUBLIC_KEY_FILE", "set one, not both"))
	case c.JWTSecret == "" && c.JWTPublicKeyFile == "" && !dev:
		p = append(p, problem(env.ErrMissing, "JWT_SECRET, JWT_PUBLIC_KEY_FILE or OIDC_ISSUER", "a token source is required outside development"))
	case c.JWTSecret != "" && len(c.JWTSecret) < 32:
		p = append(p, problem(env.ErrInvalidValue, "JWT_SECRET", "must be at least 32 bytes"))
	case c.JWTPublicKeyFile != "":
		if err := c.loadPublicKey(); err != nil {
			p = append(p, err)
		}
	}
	if c.OIDCAudience != "" && !oidc {
		p = append(p, problem(env.ErrInvalidValue, "OIDC_AUDIENCE", "set without OIDC_ISSUER"))
	}
	if c.JWTIssuer == "" && c.Environment == env.Production && !oidc {
		p = append(p, problem(env.ErrMissing, "JWT_ISSUER", "required in production, so tokens from other issuers are refused"))
	}
	if c.JWTAudience == "" {
		p = append(p, problem(env.ErrInvalidValue, "JWT_AUDIENCE", "must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p = append(p, problem(env.ErrInvalidValue, "CHAT_ADDR", "must be host:port"))
	}
	positive := []struct {
		key string
		ok  bool
	}{
		{"CHAT_READ_LIMIT", c.ReadLimit > 0},
		{"CHAT_QUEUE_SIZE", c.QueueSize > 0},
		{"CHAT_MAX_ROOMS", c.MaxRooms > 0},
		{"CHAT_WRITE_TIMEOUT", c.WriteTimeout > 0},
		{"CHAT_SHUTDOWN_TIMEOUT", c.ShutdownTimeout > 0},
		{"CHAT_DEV_TOKEN_TTL", c.DevTokenTTL > 0},
	}
	for _, f := range positive {
		if !f.ok {
			p = append(p, problem(env.ErrInvalidValue, f.key, "must be positive"))
		}
	}
	if c.ReadRate < 0 || c.ReadBurst < 0 {
		p = append(p, problem(env.ErrInvalidValue, "CHAT_READ_RATE", "and CHAT_READ_BURST must not be negative"))
	}
	if c.Drain < 0 {
		p = append(p, problem(env.ErrInvalidValue, "CHAT_DRAIN", "must not be negative"))
	}
	if c.History < 0 {
		p = append(p, problem(env.ErrInvalidValue, "CHAT_HISTORY", "must not be negative"))
	}
	if c.JWTLeeway < 0 {
		p = append(p, problem(env.ErrInvalidValue, "JWT_LEEWAY", "must not be negative"))
	}
	return append(p, c.validateBroker()...)
}

// loadPublicKey reads and parses JWTPublicKeyFile. Its errors name the
// setting, not the path: the path is a configuration value too.
func (c *settings) loadPublicKey() error {
	pemBytes, err := os.ReadFile(c.JWTPublicKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return problem(env.ErrInvalidValue, "JWT_PUBLIC_KEY_FILE", "file does not exist")
	case err != nil:
		return problem(env.ErrInvalidValue, "JWT_PUBLIC_KEY_FILE", "file cannot be read")
	}
	key, err := jwtauth.ParsePublicKey(pemBytes)
	if err != nil {
		return problem(env.ErrInvalidValue, "JWT_PUBLIC_KEY_FILE", "file holds no PEM public key")
	}
	if _, err := jwtauth.NewPublicKey(key, jwtauth.Options{}); err != nil {
		return problem(env.ErrInvalidValue, "JWT_PUBLIC_KEY_FILE", "key is unsupported or too weak")
	}
	c.publicKey = key
	return nil
}

// loadEnv returns the process environment layered over the dotenv file at
// path. A file the user named (mustExist) must exist; the default .env in
// the working directory may be absent. A malformed file, or a symbolic link
// to a file that is not there, is an error either way. An empty path reads
// no file.
func loadEnv(path string, mustExist bool) (env.Env, error) {
	osEnv := env.OS()
	if path == "" {
		return osEnv, nil
	}
	load := env.LoadOptional
	if mustExist {
		load = env.Load
	}
	dot, err := load(path)
	if err != nil {
		return env.Env{}, fmt.Errorf("chat: %w", err)
	}
	return env.Layer(osEnv, dot), nil
}
