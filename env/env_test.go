package env_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

// TestOS is the one test that touches the process environment.
func TestOS(t *testing.T) {
	t.Setenv("SSOT_ENV_TEST_OS", "from-os")
	t.Setenv("SSOT_ENV_TEST_EMPTY", "")
	e := env.OS()
	t.Setenv("SSOT_ENV_TEST_OS", "changed later")

	if v, ok := e.Lookup("SSOT_ENV_TEST_OS"); !ok || v != "from-os" {
		t.Errorf("Lookup = %q, %v; want the value at snapshot time", v, ok)
	}
	if v, ok := e.Lookup("SSOT_ENV_TEST_EMPTY"); !ok || v != "" {
		t.Errorf("Lookup of an empty variable = %q, %v; want \"\", true", v, ok)
	}
	if got := e.Source("SSOT_ENV_TEST_OS"); got != env.SourceOS {
		t.Errorf("Source = %q, want %q", got, env.SourceOS)
	}
}

func TestMapCopies(t *testing.T) {
	t.Parallel()
	m := map[string]string{"A": "1"}
	e := env.Map(m)
	m["A"] = "2"
	m["B"] = "3"
	if diff := cmp.Diff([]string{"A=1"}, e.Environ()); diff != "" {
		t.Errorf("Map shares its argument (-want +got):\n%s", diff)
	}
	if got := e.Source("A"); got != env.SourceMap {
		t.Errorf("Source = %q, want %q", got, env.SourceMap)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	e := env.Map(map[string]string{"SET": "v", "EMPTY": ""})
	tests := []struct {
		name   string
		env    env.Env
		key    string
		want   string
		wantOK bool
	}{
		{"set", e, "SET", "v", true},
		{"set but empty is set", e, "EMPTY", "", true},
		{"unset", e, "NOPE", "", false},
		{"keys are case-sensitive", e, "set", "", false},
		{"zero Env is empty", env.Env{}, "SET", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.env.Lookup(tt.key)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLayer(t *testing.T) {
	t.Parallel()
	osLayer := env.Map(map[string]string{"A": "os", "EMPTY": ""}).With(nil)
	dot, err := env.Parse(".env", strings.NewReader("A=dot\nB=dot\nEMPTY=dot\n"))
	if err != nil {
		t.Fatal(err)
	}
	defaults := env.Map(map[string]string{"B": "defaults", "C": "defaults"})
	e := env.Layer(osLayer, dot, defaults)

	type kv struct{ Value, Source string }
	got := map[string]kv{}
	for _, k := range e.Keys() {
		v, _ := e.Lookup(k)
		got[k] = kv{v, e.Source(k)}
	}
	want := map[string]kv{
		"A":     {"os", env.SourceMap},
		"B":     {"dot", ".env"},
		"C":     {"defaults", env.SourceMap},
		"EMPTY": {"", env.SourceMap}, // an empty value in an earlier layer still wins
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Layer (-want +got):\n%s", diff)
	}
	if got := e.Source("MISSING"); got != "" {
		t.Errorf("Source of an unset key = %q, want empty", got)
	}
	if n := env.Layer().Len(); n != 0 {
		t.Errorf("Layer() has %d keys, want 0", n)
	}
}

func TestWithWithout(t *testing.T) {
	t.Parallel()
	base := env.Map(map[string]string{"A": "1", "B": "2"})
	with := base.With(map[string]string{"B": "20", "C": "30"})
	without := with.Without("A", "NOT_THERE")

	if diff := cmp.Diff([]string{"A=1", "B=2"}, base.Environ()); diff != "" {
		t.Errorf("With or Without changed the original (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A=1", "B=20", "C=30"}, with.Environ()); diff != "" {
		t.Errorf("With (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"B=20", "C=30"}, without.Environ()); diff != "" {
		t.Errorf("Without (-want +got):\n%s", diff)
	}
	if got := with.Source("B"); got != env.SourceWith {
		t.Errorf("Source of an override = %q, want %q", got, env.SourceWith)
	}
	if got := with.Source("A"); got != env.SourceMap {
		t.Errorf("Source of a kept key = %q, want %q", got, env.SourceMap)
	}
	if got := (env.Env{}).Without("A").Len(); got != 0 {
		t.Errorf("Without on the zero Env has %d keys", got)
	}
}

func TestKeysEnvironSorted(t *testing.T) {
	t.Parallel()
	e := env.Map(map[string]string{"b": "2", "A": "1", "C": "x=y", "EMPTY": ""})
	if diff := cmp.Diff([]string{"A", "C", "EMPTY", "b"}, e.Keys()); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A=1", "C=x=y", "EMPTY=", "b=2"}, e.Environ()); diff != "" {
		t.Errorf("Environ (-want +got):\n%s", diff)
	}
	if got := (env.Env{}).Environ(); len(got) != 0 {
		t.Errorf("Environ of the zero Env = %q", got)
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	e := env.Map(map[string]string{"SET": "x", "EMPTY": ""})
	if err := e.Require("SET", "EMPTY"); err != nil {
		t.Errorf("Require of set keys (one empty) = %v, want nil", err)
	}
	err := e.Require("A", "SET", "B")
	if !errors.Is(err, env.ErrMissing) {
		t.Fatalf("Require = %v, want ErrMissing", err)
	}
	var keys []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *env.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		keys = append(keys, fe.Key)
	}
	if diff := cmp.Diff([]string{"A", "B"}, keys); diff != "" {
		t.Errorf("missing keys (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "env: A: missing\nenv: B: missing"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEnvPrintsNoValues(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	e := env.Map(map[string]string{"DB_PASSWORD": secret, "PORT": secret})
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "env", e)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "env", e)
	outputs := map[string]string{
		"String":      e.String(),
		"%v":          fmt.Sprintf("%v", e),
		"%+v":         fmt.Sprintf("%+v", e),
		"%#v":         fmt.Sprintf("%#v", e),
		"%s":          fmt.Sprintf("%s", e),
		"%q":          fmt.Sprintf("%q", e),
		"%x":          fmt.Sprintf("%x", e),
		"%d":          fmt.Sprintf("%d", e),
		"pointer":     fmt.Sprintf("%v", &e),
		"in a struct": fmt.Sprintf("%+v", struct{ E env.Env }{e}),
		"slog":        logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s prints a value: %s", name, out)
		}
		if !strings.Contains(out, "DB_PASSWORD") {
			t.Errorf("%s does not name the keys: %s", name, out)
		}
	}
	if got, want := e.String(), "env.Env(2 keys: DB_PASSWORD, PORT)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := env.Map(map[string]string{"A": "1"}).String(), "env.Env(1 key: A)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (env.Env{}).String(), "env.Env(0 keys)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
