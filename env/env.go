package env

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Source names Env reports for keys that did not come from a dotenv file.
const (
	// SourceOS is the Source of keys read by OS.
	SourceOS = "os"
	// SourceMap is the Source of keys given to Map.
	SourceMap = "map"
	// SourceWith is the Source of keys given to Env.With.
	SourceWith = "with"
)

// Env is an immutable set of environment variables, each remembering the
// layer that supplied it. Code that needs configuration takes an Env (or a
// struct decoded from one) instead of calling os.Getenv, so tests build
// their own with Map and run in parallel without touching the process
// environment.
//
// The zero value is an empty environment. An Env is never modified after it
// is made (With, Without and Layer return new ones), so it is safe for
// concurrent use and cheap to copy: copies share the same storage.
//
// Printing an Env with fmt or log/slog shows its key names, never a value.
type Env struct {
	vars map[string]entry
}

type entry struct {
	value  string
	source string
}

// OS returns a snapshot of the process environment as it is now; later
// changes to the process environment do not affect it. Every key's Source is
// "os". Where a key appears twice, the first occurrence wins, as with
// os.Getenv.
func OS() Env {
	environ := os.Environ()
	vars := make(map[string]entry, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			// Windows lists per-drive working directories as "=C:=C:\…".
			continue
		}
		if _, dup := vars[k]; !dup {
			vars[k] = entry{value: v, source: SourceOS}
		}
	}
	return Env{vars: vars}
}

// Map returns an Env holding a copy of m; changing m afterwards does not
// change the Env. Every key's Source is "map". Map(nil) is an empty Env.
// Map is the way to give code under test its environment.
func Map(m map[string]string) Env {
	vars := make(map[string]entry, len(m))
	for k, v := range m {
		vars[k] = entry{value: v, source: SourceMap}
	}
	return Env{vars: vars}
}

// Layer returns one Env holding every key of envs, where earlier layers win:
// Layer(OS(), dotenv) lets the process environment override a .env file.
// Each key keeps the Source of the layer it came from.
func Layer(envs ...Env) Env {
	n := 0
	for _, e := range envs {
		n = max(n, len(e.vars))
	}
	vars := make(map[string]entry, n)
	for _, e := range envs {
		for k, v := range e.vars {
			if _, seen := vars[k]; !seen {
				vars[k] = v
			}
		}
	}
	return Env{vars: vars}
}

// Lookup returns the value of key and whether it is set. A key set to the
// empty string is set: Lookup returns "", true. Lookup has the signature of
// the Lookuper interfaces of other configuration libraries, so an Env can
// feed them too.
func (e Env) Lookup(key string) (string, bool) {
	v, ok := e.vars[key]
	return v.value, ok
}

// Source returns the name of the layer that supplied key: "os", "map",
// "with", or the name given to Parse (the path given to Load). It returns ""
// when key is not set.
func (e Env) Source(key string) string {
	return e.vars[key].source
}

// Len returns the number of keys that are set.
func (e Env) Len() int { return len(e.vars) }

// With returns a copy of e in which the keys of kv are set to its values,
// with Source "with". It is meant for tests that change a few keys of a
// shared environment. e itself is unchanged.
func (e Env) With(kv map[string]string) Env {
	vars := make(map[string]entry, len(e.vars)+len(kv))
	maps.Copy(vars, e.vars)
	for k, v := range kv {
		vars[k] = entry{value: v, source: SourceWith}
	}
	return Env{vars: vars}
}

// Without returns a copy of e with keys unset. e itself is unchanged.
func (e Env) Without(keys ...string) Env {
	vars := maps.Clone(e.vars)
	for _, k := range keys {
		delete(vars, k)
	}
	return Env{vars: vars}
}

// Keys returns the keys that are set, sorted.
func (e Env) Keys() []string {
	return slices.Sorted(maps.Keys(e.vars))
}

// Environ returns the environment as "KEY=value" strings sorted by key, the
// form exec.Cmd.Env and os.Environ use. Keys given to Map or With are not
// checked, so one holding '=' would not read back from this form.
func (e Env) Environ() []string {
	out := make([]string, 0, len(e.vars))
	for _, k := range e.Keys() {
		out = append(out, k+"="+e.vars[k].value)
	}
	return out
}

// Require returns nil if every key is set (possibly to the empty string).
// Otherwise it returns every missing key at once: an errors.Join of one
// *FieldError wrapping ErrMissing per key, in the order given.
func (e Env) Require(keys ...string) error {
	var errs []error
	for _, k := range keys {
		if _, ok := e.vars[k]; !ok {
			errs = append(errs, &FieldError{Key: k, Err: ErrMissing})
		}
	}
	return errors.Join(errs...)
}

// String returns the number of keys and their names, never a value.
func (e Env) String() string {
	keys := e.Keys()
	var b strings.Builder
	b.WriteString("env.Env(")
	b.WriteString(strconv.Itoa(len(keys)))
	if len(keys) == 1 {
		b.WriteString(" key")
	} else {
		b.WriteString(" keys")
	}
	if len(keys) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(keys, ", "))
	}
	b.WriteString(")")
	return b.String()
}

// Format makes every fmt verb, %#v and %d included, print String, so no
// format string can reach the values.
func (e Env) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(e.String()))
}

// LogValue lets log/slog print an Env as its key names only.
func (e Env) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("len", len(e.vars)), slog.Any("keys", e.Keys()))
}

var (
	_ fmt.Stringer   = Env{}
	_ fmt.Formatter  = Env{}
	_ slog.LogValuer = Env{}
)
