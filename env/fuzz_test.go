package env_test

import (
	"errors"
	"maps"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"A=1\nB=two words # comment\n",
		"export A='single $HOME'\r\nB=\"double \\n \\\" \\\\ \\$\"\r\n",
		"# only a comment",
		"KEY=\"multi\nline\"\nNEXT=x",
		"A=$(rm -rf /)\nB=`id`\nC=${X:-y}",
		"A=1\nA=2",
		"A=\"unterminated",
		"A='x' trailing",
		"\uFEFFA=bom",
		"A=#hash\nB= # empty",
		"1BAD=x\n=x\nA-B=c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := env.Parse("fuzz.env", strings.NewReader(src))
		if err != nil {
			var se *env.SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, env.ErrSyntax) || se.Name != "fuzz.env" || se.Line < 1 || se.Line > strings.Count(src, "\n")+1 {
				t.Fatalf("error %v is not a *SyntaxError with a line inside the input", err)
			}
			return
		}
		got := vars(t, e)
		for k := range got {
			if e.Source(k) != "fuzz.env" {
				t.Fatalf("Source(%q) = %q", k, e.Source(k))
			}
		}
		// Environ's "KEY=value" lines parse back to the same keys and
		// values wherever a value reads the same unquoted: no line
		// breaks, no surrounding spaces, no leading quote, no " #".
		want := maps.Clone(got)
		var lines []string
		for _, kv := range e.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if !plain(v) {
				delete(want, k)
				continue
			}
			lines = append(lines, kv)
		}
		back, err := env.Parse("environ", strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatalf("Parse of Environ() output: %v", err)
		}
		if diff := cmp.Diff(want, vars(t, back)); diff != "" {
			t.Fatalf("Environ() does not round-trip (-want +got):\n%s", diff)
		}
	})
}

// plain reports whether v reads back as itself as an unquoted dotenv value.
func plain(v string) bool {
	if strings.ContainsAny(v, "\r\n") || strings.HasPrefix(v, "'") || strings.HasPrefix(v, `"`) {
		return false
	}
	if strings.TrimLeft(v, " \t") != v || strings.TrimRight(v, " \t") != v {
		return false
	}
	return !strings.Contains(v, " #") && !strings.Contains(v, "\t#")
}

// fuzzConfig holds every kind Decode converts strings into.
type fuzzConfig struct {
	S   string        `env:"S"`
	B   bool          `env:"B"`
	I   int           `env:"I"`
	I8  int8          `env:"I8"`
	U   uint64        `env:"U"`
	F   float32       `env:"F"`
	D   time.Duration `env:"D"`
	L   []string      `env:"L"`
	LI  []int         `env:"LI"`
	BS  []byte        `env:"BS"`
	URL *url.URL      `env:"URL"`
	A   netip.Addr    `env:"A"`
	N   env.Name      `env:"N"`
	P   *float64      `env:"P"`
	Sub struct {
		D time.Duration `env:"D,required"`
	} `env:",prefix=SUB_"`
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{"", "0", "1", "-1", "true", "1.5", "1h", "a,b", "1,2", "http://x/y", "::1", "prod", "NaN", "1e400", "http://[::1", "\x00", "é"} {
		f.Add(seed)
	}
	keys := []string{"S", "B", "I", "I8", "U", "F", "D", "L", "LI", "BS", "URL", "A", "N", "P", "SUB_D"}
	f.Fuzz(func(t *testing.T, value string) {
		m := make(map[string]string, len(keys))
		for _, k := range keys {
			m[k] = value
		}
		e := env.Map(m)
		var c fuzzConfig
		err := env.Decode(e, &c)
		if c.S != value {
			t.Fatalf("string field = %q, want the value", c.S)
		}
		r, cerr := env.Check(e, (*fuzzConfig)(nil))
		if cerr != nil {
			t.Fatal(cerr)
		}
		if (err == nil) != r.OK() {
			t.Fatalf("Decode error %v but Check OK() = %v", err, r.OK())
		}
		if err == nil {
			return
		}
		if r.Err().Error() != err.Error() {
			t.Fatalf("Check and Decode disagree:\n%v\n%v", r.Err(), err)
		}
		for _, fe := range fieldErrors(t, err) {
			if !errors.Is(&fe, env.ErrInvalidValue) || fe.Key == "" {
				t.Fatalf("unexpected problem %v for a value of the right shape of tag", &fe)
			}
		}
		// No message of this package holds any of these bytes, so a value
		// that does can be looked for verbatim.
		if len(value) >= 3 && strings.ContainsAny(value, "\x00\x01~^|{}") && strings.Contains(err.Error(), value) {
			t.Fatalf("error shows the value: %v", err)
		}
	})
}

// FuzzRedact checks that no password survives Redact in a list of two URLs,
// whatever characters it holds ("@", "/", ":", "://", "%"), so long as it
// holds no list separator.
func FuzzRedact(f *testing.F) {
	for _, seed := range [][2]string{
		{"pw1", "pw2"}, {"p@ss/w0rd", "a:b"}, {"x://y", "@@"}, {"%40", "::"}, {"", "z"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pw1, pw2 string) {
		if strings.ContainsAny(pw1+pw2, ",; \t\r\n") {
			return // a separator in a password is indistinguishable from a list
		}
		in := "nats://a:" + pw1 + "@h1:4222,nats://b:" + pw2 + "@h2:4222"
		const want = "nats://a:xxxxx@h1:4222,nats://b:xxxxx@h2:4222"
		if got := env.Redact("NATS_SERVERS", in); got != want {
			t.Fatalf("Redact(%q) = %q, want %q", in, got, want)
		}
	})
}
