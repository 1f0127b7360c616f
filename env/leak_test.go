package env_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/env"
)

// secret is the marker every leaked value would carry.
const secret = "Sup3rS3cr3tV4lu3"

// leakConfig has a field of every kind, so each conversion's error path runs.
type leakConfig struct {
	Int      int           `env:"INT"`
	Int8     int8          `env:"INT8"`
	Uint     uint          `env:"UINT"`
	Float    float64       `env:"FLOAT"`
	Bool     bool          `env:"BOOL"`
	Duration time.Duration `env:"DURATION"`
	URL      *url.URL      `env:"URL"`
	Addr     netip.Addr    `env:"ADDR"`
	Name     env.Name      `env:"NAME"`
	Ints     []int         `env:"INTS"`
	Ptr      *int          `env:"PTR"`
	Password string        `env:"PASSWORD,required,secret"`
	Nested   struct {
		Port int `env:"PORT"`
	} `env:",prefix=DB_"`
}

// TestNoValueInAnyError feeds secret-carrying values through every error
// path of the package and looks for them in every rendering of the error.
func TestNoValueInAnyError(t *testing.T) {
	t.Parallel()
	values := map[string]string{
		"INT":      "12" + secret,
		"INT8":     "999999999999" + secret,
		"UINT":     "-" + secret,
		"FLOAT":    secret + "e10",
		"BOOL":     secret,
		"DURATION": "5" + secret,
		"URL":      "http://[" + secret,
		"ADDR":     secret,
		"NAME":     secret,
		"INTS":     "1," + secret,
		"PTR":      secret,
		"DB_PORT":  secret,
		// PASSWORD is missing, so its error path runs too.
	}
	e := env.Map(values)
	var c leakConfig
	decodeErr := env.Decode(e, &c)
	report, err := env.Check(e, (*leakConfig)(nil))
	if err != nil {
		t.Fatal(err)
	}
	reportJSON, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	_, nameErr := env.Map(map[string]string{"ENVIRONMENT": secret}).Name()
	_, parseNameErr := env.ParseName(secret)

	errs := map[string]error{
		"Decode":          decodeErr,
		"Report.Err":      report.Err(),
		"Env.Name":        nameErr,
		"ParseName":       parseNameErr,
		"Require":         env.Map(map[string]string{"A": secret}).Require("A", "B"),
		"UnmarshalText":   new(env.Name).UnmarshalText([]byte(secret)),
		"dotenv: stray":   parseErr("A=1\n" + secret + "\n"),
		"dotenv: key":     parseErr(secret + "-X=1"),
		"dotenv: quote":   parseErr(`A="` + secret),
		"dotenv: single":  parseErr("A='" + secret),
		"dotenv: escape":  parseErr(`A="` + secret + `\q"`),
		"dotenv: after":   parseErr(`A="x"` + secret),
		"dotenv: after'":  parseErr(`A='x'` + secret),
		"dotenv: twice":   parseErr("A=" + secret + "\nA=" + secret),
		"dotenv: export":  parseErr("export " + secret),
		"dotenv: =":       parseErr("=" + secret),
		"dotenv: digits":  parseErr("1" + secret + "=x"),
		"dotenv: unicode": parseErr("ключ=" + secret),
	}
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error; the path under test did not run", name)
			continue
		}
		for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(form, secret) || strings.Contains(form, secret[:8]) {
				t.Errorf("%s: error shows the value: %s", name, form)
			}
		}
	}
	for name, out := range map[string]string{"Report.String": report.String(), "Report JSON": string(reportJSON), "Env": fmt.Sprintf("%#v", e)} {
		if strings.Contains(out, secret[:8]) {
			t.Errorf("%s shows a value: %s", name, out)
		}
	}
	if got := len(fieldErrors(t, decodeErr)); got != len(values)+1 {
		t.Errorf("Decode reported %d problems, want %d (every key plus the missing password)", got, len(values)+1)
	}
}

func parseErr(src string) error {
	_, err := env.Parse(".env", strings.NewReader(src))
	return err
}
