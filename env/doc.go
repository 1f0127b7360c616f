// Package env is the isolated environment accessor: configuration is read
// once into an immutable Env value that is passed in, never looked up with
// os.Getenv from scattered places. Tests build their Env with Map and run in
// parallel; nothing in this package changes the process environment.
//
// # Reading
//
// OS snapshots the process environment, Load, LoadOptional and Parse read
// dotenv files, Map wraps a map. Layer stacks them, earlier layers winning,
// and Source tells which layer supplied a key:
//
//	dot, err := env.LoadOptional(".env") // none is fine; a broken one is not
//	…
//	e := env.Layer(env.OS(), dot) // the process environment overrides .env
//	e.Source("DB_HOST")           // "os" or ".env"
//
// Dotenv values are never expanded: $VAR, ${VAR}, $(command) and backticks
// stay literal text, so a value can never run a command.
//
// # Decoding
//
// Decode fills a struct from its tags, reporting every missing, invalid or
// mistagged field at once; Check reports the same for a health endpoint or a
// start-up log, by key name. Env.Name reads ENVIRONMENT strictly: unset is
// Development, an unknown name is an error, never a guess.
//
// # Secrets
//
// No error, String method or report of this package contains a value read
// from an environment: errors name the key and the field and say what was
// expected. Printing an Env shows its key names only. Redact masks values
// for code that does log them.
package env
