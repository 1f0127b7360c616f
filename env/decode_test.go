package env_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

// fieldErrors unpacks a Decode error into its *FieldError list.
func fieldErrors(t *testing.T, err error) []env.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]env.FieldError, 0, len(errs))
	for _, e := range errs {
		var fe *env.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		out = append(out, *fe)
	}
	return out
}

// ignoreReason compares FieldErrors by field, key and sentinel.
var ignoreReason = cmp.Options{
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reason" }, cmp.Ignore()),
	cmp.Comparer(func(a, b error) bool { return a == b }),
}

type dbConfig struct {
	Host    string        `env:"HOST" default:"localhost"`
	Port    int           `env:"PORT" default:"5432"`
	User    string        `env:"USER,required"`
	Timeout time.Duration `env:"TIMEOUT"`
}

type Base struct {
	Service string `env:"SERVICE"`
}

type appConfig struct {
	Base
	Addr     string    `env:"ADDR" default:":8080"`
	Token    string    `env:"API_TOKEN,required,secret"`
	Origins  []string  `env:"ORIGINS"`
	Primary  dbConfig  `env:",prefix=DB_"`
	Replica  *dbConfig `env:",prefix=REPLICA_DB_"`
	Untagged string
	internal string
}

func TestDecodeStruct(t *testing.T) {
	t.Parallel()
	e := env.Map(map[string]string{
		"SERVICE":            "chat",
		"API_TOKEN":          "t0k3n",
		"ORIGINS":            "a.example,b.example",
		"DB_HOST":            "db",
		"DB_USER":            "app",
		"DB_TIMEOUT":         "2s",
		"REPLICA_DB_USER":    "ro",
		"REPLICA_DB_PORT":    "6432",
		"Untagged":           "ignored",
		"internal":           "ignored",
		"REPLICA_DB_UNKNOWN": "ignored",
	})
	got := appConfig{internal: "kept"}
	if err := env.Decode(e, &got); err != nil {
		t.Fatal(err)
	}
	want := appConfig{
		Base:     Base{Service: "chat"},
		Addr:     ":8080",
		Token:    "t0k3n",
		Origins:  []string{"a.example", "b.example"},
		Primary:  dbConfig{Host: "db", Port: 5432, User: "app", Timeout: 2 * time.Second},
		Replica:  &dbConfig{Host: "localhost", Port: 6432, User: "ro"},
		internal: "kept",
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(appConfig{})); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
}

func TestDecodeDefaultsAndPresence(t *testing.T) {
	t.Parallel()
	type config struct {
		Port     int    `env:"PORT" default:"8080"`
		Name     string `env:"NAME" default:"app"`
		Kept     int    `env:"KEPT"`
		Required string `env:"REQUIRED,required"`
	}
	tests := []struct {
		name    string
		vars    map[string]string
		want    config
		missing bool
	}{
		{"defaults when unset", map[string]string{"REQUIRED": "r"}, config{Port: 8080, Name: "app", Kept: 99, Required: "r"}, false},
		{"set values win", map[string]string{"PORT": "1", "NAME": "n", "KEPT": "2", "REQUIRED": "r"}, config{Port: 1, Name: "n", Kept: 2, Required: "r"}, false},
		{"set but empty is set: no default", map[string]string{"NAME": "", "REQUIRED": "r"}, config{Port: 8080, Name: "", Kept: 99, Required: "r"}, false},
		{"required set but empty is present", map[string]string{"REQUIRED": ""}, config{Port: 8080, Name: "app", Kept: 99, Required: ""}, false},
		{"required unset is missing", nil, config{Port: 8080, Name: "app", Kept: 99}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := config{Kept: 99} // a value already there acts as a default
			err := env.Decode(env.Map(tt.vars), &got)
			if tt.missing != errors.Is(err, env.ErrMissing) {
				t.Errorf("Decode = %v, want missing %v", err, tt.missing)
			}
			if !tt.missing && err != nil {
				t.Errorf("Decode = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeNested(t *testing.T) {
	t.Parallel()
	type leaf struct {
		V string `env:"V"`
	}
	type middle struct {
		Leaf    leaf  `env:",prefix=LEAF_"`
		LeafPtr *leaf `env:",prefix=PTR_"`
		NoPre   leaf  `env:",prefix="`
	}
	type top struct {
		Mid middle `env:",prefix=MID_"`
	}
	existing := &leaf{V: "kept"}
	got := top{Mid: middle{LeafPtr: existing}}
	err := env.Decode(env.Map(map[string]string{"MID_LEAF_V": "deep", "MID_V": "bare", "V": "not read"}), &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mid.Leaf.V != "deep" || got.Mid.NoPre.V != "bare" {
		t.Errorf("prefixes do not add up: %+v", got.Mid)
	}
	if got.Mid.LeafPtr != existing || existing.V != "kept" {
		t.Errorf("a non-nil nested pointer was replaced or changed: %+v", got.Mid.LeafPtr)
	}

	var fresh top
	if err := env.Decode(env.Map(map[string]string{"MID_PTR_V": "new"}), &fresh); err != nil {
		t.Fatal(err)
	}
	if fresh.Mid.LeafPtr == nil || fresh.Mid.LeafPtr.V != "new" {
		t.Errorf("nil nested pointer not allocated and decoded: %+v", fresh.Mid.LeafPtr)
	}
}

func TestDecodeBadTags(t *testing.T) {
	t.Parallel()
	type self struct {
		Next *self `env:",prefix=N_"`
	}
	type plain struct{ X int }
	tests := []struct {
		name   string
		dst    any
		field  string
		key    string
		reason string
	}{
		{"required with default", &struct {
			A string `env:"A,required" default:"x"`
		}{}, "A", "A", "required with a default"},
		{"unknown option", &struct {
			A string `env:"A,requried"`
		}{}, "A", "A", `unknown option "requried"`},
		{"empty option", &struct {
			A string `env:"A,"`
		}{}, "A", "A", `unknown option ""`},
		{"no key", &struct {
			A string `env:""`
		}{}, "A", "", "no key"},
		{"options but no key", &struct {
			A string `env:",required"`
		}{}, "A", "", "no key"},
		{"key with a space", &struct {
			A string `env:"MY KEY"`
		}{}, "A", "MY KEY", "no environment key can"},
		{"default without a key", &struct {
			A string `default:"x"`
		}{}, "A", "", "default without an env key"},
		{"unexported field", &struct {
			a string `env:"A"`
		}{}, "a", "A", "unexported field"},
		{"unsupported map", &struct {
			M map[string]string `env:"M"`
		}{}, "M", "M", "unsupported type map[string]string"},
		{"unsupported struct", &struct {
			P plain `env:"P"`
		}{}, "P", "P", "unsupported type env_test.plain"},
		{"unsupported slice of slices", &struct {
			S [][]string `env:"S"`
		}{}, "S", "S", "unsupported type"},
		{"unsupported pointer to pointer", &struct {
			P **int `env:"P"`
		}{}, "P", "P", "unsupported type"},
		{"prefix on a non-struct", &struct {
			A string `env:",prefix=X_"`
		}{}, "A", "", "not a struct"},
		{"prefix with a key", &struct {
			D plain `env:"D,prefix=X_"`
		}{}, "D", "D", "takes no key"},
		{"prefix with required", &struct {
			D plain `env:",prefix=X_,required"`
		}{}, "D", "", "takes no key, required or secret"},
		{"default on a nested struct", &struct {
			D plain `env:",prefix=X_" default:"x"`
		}{}, "D", "", "default on a nested struct"},
		{"default that does not parse, key unset", &struct {
			N int `env:"N" default:"many"`
		}{}, "N", "N", "default: not an integer"},
		{"prefixes in the key", &struct {
			D struct {
				N int `env:"N" default:"x"`
			} `env:",prefix=DB_"`
		}{}, "D.N", "DB_N", "default: not an integer"},
		{"endless nesting", &self{}, strings.Repeat("Next.", 32) + "Next", "", "nested more than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := fieldErrors(t, env.Decode(env.Env{}, tt.dst))
			if len(got) != 1 {
				t.Fatalf("got %d errors %v, want 1", len(got), got)
			}
			want := env.FieldError{Field: tt.field, Key: tt.key, Err: env.ErrBadTag}
			if diff := cmp.Diff(want, got[0], ignoreReason); diff != "" {
				t.Errorf("FieldError (-want +got):\n%s", diff)
			}
			if !strings.Contains(got[0].Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", got[0].Reason, tt.reason)
			}
		})
	}
}

// TestDecodeBadDefaultWhileSet: a default that cannot parse is found even
// while the key is set, before the day someone unsets it.
func TestDecodeBadDefaultWhileSet(t *testing.T) {
	t.Parallel()
	var c struct {
		N int `env:"N" default:"many"`
	}
	err := env.Decode(env.Map(map[string]string{"N": "3"}), &c)
	if !errors.Is(err, env.ErrBadTag) {
		t.Errorf("Decode = %v, want ErrBadTag", err)
	}
}

func TestDecodeEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	var c struct {
		Good    string        `env:"GOOD"`
		Missing string        `env:"MISSING,required"`
		Port    int           `env:"PORT"`
		Wait    time.Duration `env:"WAIT"`
		DB      struct {
			User string `env:"USER,required"`
			Pool int    `env:"POOL"`
		} `env:",prefix=DB_"`
		Bad   string `env:"BAD,required" default:"x"`
		After string `env:"AFTER"`
	}
	err := env.Decode(env.Map(map[string]string{
		"GOOD": "ok", "PORT": "eighty", "WAIT": "", "DB_POOL": "-", "AFTER": "still set",
	}), &c)
	want := []env.FieldError{
		{Field: "Missing", Key: "MISSING", Err: env.ErrMissing},
		{Field: "Port", Key: "PORT", Err: env.ErrInvalidValue},
		{Field: "Wait", Key: "WAIT", Err: env.ErrInvalidValue},
		{Field: "DB.User", Key: "DB_USER", Err: env.ErrMissing},
		{Field: "DB.Pool", Key: "DB_POOL", Err: env.ErrInvalidValue},
		{Field: "Bad", Key: "BAD", Err: env.ErrBadTag},
	}
	if diff := cmp.Diff(want, fieldErrors(t, err), ignoreReason); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if c.Good != "ok" || c.After != "still set" {
		t.Errorf("fields without problems were not set: Good=%q After=%q", c.Good, c.After)
	}
	for _, s := range []error{env.ErrMissing, env.ErrInvalidValue, env.ErrBadTag} {
		if !errors.Is(err, s) {
			t.Errorf("errors.Is(err, %v) = false", s)
		}
	}
}

func TestDecodeInvalidTarget(t *testing.T) {
	t.Parallel()
	type config struct {
		A string `env:"A"`
	}
	var nilPtr *config
	n := 3
	tests := []struct {
		name string
		dst  any
	}{
		{"nil", nil},
		{"struct value", config{}},
		{"nil pointer", nilPtr},
		{"pointer to int", &n},
		{"pointer to pointer", &nilPtr},
		{"map", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := env.Decode(env.Map(map[string]string{"A": "x"}), tt.dst)
			if !errors.Is(err, env.ErrInvalidTarget) {
				t.Errorf("Decode = %v, want ErrInvalidTarget", err)
			}
		})
	}
}

func TestFieldErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  env.FieldError
		want string
	}{
		{"key and field", env.FieldError{Field: "DB.Port", Key: "DB_PORT", Err: env.ErrInvalidValue, Reason: "not an integer"}, "env: DB_PORT (field DB.Port): invalid value: not an integer"},
		{"key only", env.FieldError{Key: "TOKEN", Err: env.ErrMissing}, "env: TOKEN: missing"},
		{"field only", env.FieldError{Field: "DB", Err: env.ErrBadTag, Reason: "why"}, "env: field DB: bad tag: why"},
		{"no sentinel", env.FieldError{Key: "K"}, "env: K: error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeIgnoresDash(t *testing.T) {
	t.Parallel()
	var c struct {
		Base  `env:"-"`
		Skip  int `env:"-"`
		Taken int `env:"TAKEN"`
	}
	e := env.Map(map[string]string{"SERVICE": "x", "-": "not a number", "TAKEN": "1"})
	if err := env.Decode(e, &c); err != nil {
		t.Fatal(err)
	}
	if c.Service != "" || c.Skip != 0 || c.Taken != 1 {
		t.Errorf(`env:"-" fields were decoded: %+v`, c)
	}
}

func TestDecodeEmbeddedPointer(t *testing.T) {
	t.Parallel()
	type withPtr struct {
		*Base
		Addr string `env:"ADDR"`
	}
	e := env.Map(map[string]string{"SERVICE": "chat", "ADDR": ":1"})
	var unset withPtr
	if err := env.Decode(e, &unset); err != nil {
		t.Fatal(err)
	}
	if unset.Base != nil || unset.Addr != ":1" {
		t.Errorf("nil embedded pointer was allocated or the rest not decoded: %+v", unset)
	}
	set := withPtr{Base: &Base{}}
	if err := env.Decode(e, &set); err != nil {
		t.Fatal(err)
	}
	if set.Service != "chat" {
		t.Errorf("non-nil embedded pointer not decoded: %+v", set.Base)
	}
}
