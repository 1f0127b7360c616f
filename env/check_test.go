package env_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

type checkedConfig struct {
	Addr    string        `env:"ADDR" default:":8080"`
	Token   string        `env:"API_TOKEN,required,secret"`
	Port    int           `env:"PORT"`
	Debug   bool          `env:"DEBUG"`
	Timeout time.Duration `env:"TIMEOUT"`
	DB      struct {
		URL  string `env:"URL,required,secret"`
		Pool int    `env:"POOL" default:"lots"`
	} `env:",prefix=DB_"`
}

func checkEnv(t *testing.T) env.Env {
	t.Helper()
	dot, err := env.Parse(".env", strings.NewReader("PORT=8080\nDB_URL=postgres://app:pw@db/app\n"))
	if err != nil {
		t.Fatal(err)
	}
	return env.Layer(env.Map(map[string]string{"PORT": "eighty", "DEBUG": "true"}), dot)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	r, err := env.Check(checkEnv(t), (*checkedConfig)(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []env.KeyReport{
		{Key: "ADDR", Field: "Addr", Status: env.StatusDefault},
		{Key: "API_TOKEN", Field: "Token", Status: env.StatusMissing, Required: true, Secret: true},
		{Key: "PORT", Field: "Port", Status: env.StatusInvalid, Reason: "not an integer"},
		{Key: "DEBUG", Field: "Debug", Status: env.StatusPresent, Source: env.SourceMap},
		{Key: "TIMEOUT", Field: "Timeout", Status: env.StatusUnset},
		{Key: "DB_URL", Field: "DB.URL", Status: env.StatusPresent, Required: true, Secret: true, Source: ".env"},
		{Key: "DB_POOL", Field: "DB.Pool", Status: env.StatusBadTag, Reason: "default: not an integer"},
	}
	if diff := cmp.Diff(want, r.Keys); diff != "" {
		t.Errorf("Report.Keys (-want +got):\n%s", diff)
	}
	if r.OK() {
		t.Error("OK() = true with a missing key")
	}
	lists := map[string][]string{"Missing": r.Missing(), "Invalid": r.Invalid(), "Present": r.Present()}
	wantLists := map[string][]string{"Missing": {"API_TOKEN"}, "Invalid": {"PORT"}, "Present": {"DEBUG", "DB_URL"}}
	if diff := cmp.Diff(wantLists, lists); diff != "" {
		t.Errorf("lists (-want +got):\n%s", diff)
	}
}

// TestCheckAgreesWithDecode: the report's error is the error Decode returns.
func TestCheckAgreesWithDecode(t *testing.T) {
	t.Parallel()
	e := checkEnv(t)
	var c checkedConfig
	decodeErr := env.Decode(e, &c)
	r, err := env.Check(e, &checkedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if decodeErr == nil || r.Err() == nil || r.Err().Error() != decodeErr.Error() {
		t.Errorf("Report.Err() = %v\nDecode = %v", r.Err(), decodeErr)
	}
	for _, s := range []error{env.ErrMissing, env.ErrInvalidValue, env.ErrBadTag} {
		if !errors.Is(r.Err(), s) {
			t.Errorf("Report.Err() does not wrap %v", s)
		}
	}
}

func TestCheckOK(t *testing.T) {
	t.Parallel()
	type config struct {
		A string `env:"A,required"`
		B int    `env:"B" default:"1"`
	}
	r, err := env.Check(env.Map(map[string]string{"A": ""}), (*config)(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Err() != nil {
		t.Errorf("OK() = %v, Err() = %v; want true, nil", r.OK(), r.Err())
	}
	if r.Missing() != nil || r.Invalid() != nil {
		t.Errorf("Missing() = %q, Invalid() = %q; want none", r.Missing(), r.Invalid())
	}
}

func TestCheckLeavesCfgAlone(t *testing.T) {
	t.Parallel()
	c := checkedConfig{Addr: "mine"}
	if _, err := env.Check(env.Map(map[string]string{"ADDR": "theirs"}), &c); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "mine" {
		t.Errorf("Check changed cfg: Addr = %q", c.Addr)
	}
}

func TestCheckInvalidTarget(t *testing.T) {
	t.Parallel()
	for _, cfg := range []any{nil, checkedConfig{}, new(int)} {
		if _, err := env.Check(env.Env{}, cfg); !errors.Is(err, env.ErrInvalidTarget) {
			t.Errorf("Check(%T) = %v, want ErrInvalidTarget", cfg, err)
		}
	}
}

func TestReportString(t *testing.T) {
	t.Parallel()
	r, err := env.Check(checkEnv(t), (*checkedConfig)(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"KEY        STATUS   SOURCE  NOTE",
		"ADDR       default",
		"API_TOKEN  missing          required, secret",
		"PORT       invalid          not an integer",
		"DEBUG      present  map",
		"TIMEOUT    unset",
		"DB_URL     present  .env    required, secret",
		"DB_POOL    bad tag          default: not an integer",
	}, "\n")
	if diff := cmp.Diff(want, r.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	r, err := env.Check(checkEnv(t), (*checkedConfig)(nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	got := back.Keys[1]
	want := map[string]any{"key": "API_TOKEN", "field": "Token", "status": "missing", "required": true, "secret": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON of a key (-want +got):\n%s", diff)
	}
	for _, v := range []string{"eighty", "postgres", "8080"} {
		if strings.Contains(string(out), v) {
			t.Errorf("JSON report holds a value %q: %s", v, out)
		}
	}
}

func TestStatusString(t *testing.T) {
	t.Parallel()
	want := map[env.Status]string{
		env.StatusPresent: "present", env.StatusDefault: "default", env.StatusUnset: "unset",
		env.StatusMissing: "missing", env.StatusInvalid: "invalid", env.StatusBadTag: "bad tag",
		0: "env.Status(0)", 42: "env.Status(42)",
	}
	for s, w := range want {
		if got := s.String(); got != w {
			t.Errorf("Status(%d).String() = %q, want %q", uint8(s), got, w)
		}
	}
}

func TestReportFieldWithoutKey(t *testing.T) {
	t.Parallel()
	type config struct {
		D string `env:",prefix=X_"`
	}
	r, err := env.Check(env.Env{}, (*config)(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := "KEY        STATUS   SOURCE  NOTE\n(field D)  bad tag          prefix= on a field that is not a struct or a pointer to one"
	if diff := cmp.Diff(want, r.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
	if !(env.Report{}).OK() || (env.Report{}).Err() != nil {
		t.Error("the zero Report is not OK")
	}
}
