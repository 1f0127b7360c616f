package env_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

// vars returns every key and value of e.
func vars(t *testing.T, e env.Env) map[string]string {
	t.Helper()
	m := make(map[string]string, e.Len())
	for _, k := range e.Keys() {
		m[k], _ = e.Lookup(k)
	}
	return m
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want map[string]string
	}{
		{"empty file", "", map[string]string{}},
		{"plain", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}},
		{"no final newline", "A=1", map[string]string{"A": "1"}},
		{"empty value", "A=\nB=", map[string]string{"A": "", "B": ""}},
		{"blank lines and comments", "\n# comment\n   \n\t# indented comment\nA=1\n\n", map[string]string{"A": "1"}},
		{"spaces around key and value", "  A  =  spaced out  \n", map[string]string{"A": "spaced out"}},
		{"inline comment after space", "A=1 # one\nB=2\t# two", map[string]string{"A": "1", "B": "2"}},
		{"hash without space is the value", "A=a#b\nB=#hex", map[string]string{"A": "a#b", "B": "#hex"}},
		{"comment as the whole value", "A= # nothing here", map[string]string{"A": ""}},
		{"export prefix", "export A=1\nexport\tB=2\nexport  C = 3", map[string]string{"A": "1", "B": "2", "C": "3"}},
		{"export is a key when followed by =", "export=yes", map[string]string{"export": "yes"}},
		{"key characters", "lower_case=1\n_LEAD=2\nA.B=3\nA1=4", map[string]string{"lower_case": "1", "_LEAD": "2", "A.B": "3", "A1": "4"}},
		{"equals in value", "URL=postgres://h/db?sslmode=require&x=1", map[string]string{"URL": "postgres://h/db?sslmode=require&x=1"}},
		{"quotes inside an unquoted value", `A=it's "fine"`, map[string]string{"A": `it's "fine"`}},
		{"single quotes are literal", `A='a\nb $HOME "c" # d'`, map[string]string{"A": `a\nb $HOME "c" # d`}},
		{"single quotes keep spaces", "A='  padded  '", map[string]string{"A": "  padded  "}},
		{"single quotes multi-line", "A='line 1\nline 2'\nB=3", map[string]string{"A": "line 1\nline 2", "B": "3"}},
		{"double quote escapes", `A="tab\there\nnew \"q\" back\\slash \$HOME"`, map[string]string{"A": "tab\there\nnew \"q\" back\\slash $HOME"}},
		{"double quote carriage return escape", `A="a\rb"`, map[string]string{"A": "a\rb"}},
		{"double quotes keep # and spaces", `A=" x # y "`, map[string]string{"A": " x # y "}},
		{"double quotes multi-line", "KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1", map[string]string{"KEY": "-----BEGIN-----\nabc\n-----END-----", "NEXT": "1"}},
		{"comment after closing quote", `A="x" # note` + "\nB='y'\t#note", map[string]string{"A": "x", "B": "y"}},
		{"empty quotes", `A=""` + "\nB=''", map[string]string{"A": "", "B": ""}},
		{"CRLF line endings", "A=1\r\nB=two words\r\n# c\r\n\r\nC='x'\r\n", map[string]string{"A": "1", "B": "two words", "C": "x"}},
		{"CRLF inside quotes becomes LF", "A=\"1\r\n2\"\r\nB='3\r\n4'\r\n", map[string]string{"A": "1\n2", "B": "3\n4"}},
		{"lone CR is kept", "A=a\rb\n", map[string]string{"A": "a\rb"}},
		{"byte order mark", "\uFEFFA=1", map[string]string{"A": "1"}},
		{"UTF-8 values", "GREETING=grüß dich ✓", map[string]string{"GREETING": "grüß dich ✓"}},
		// No expansion of any kind: every one of these stays literal text.
		{"no variable expansion", "HOME_COPY=$HOME\nB=${HOME}\nC=\"$HOME ${HOME}\"", map[string]string{"HOME_COPY": "$HOME", "B": "${HOME}", "C": "$HOME ${HOME}"}},
		{"no command substitution", "A=$(touch /tmp/pwned)\nB=\"$(id)\"\nC='$(id)'\nD=`id`\nE=\"`id`\"", map[string]string{
			"A": "$(touch /tmp/pwned)", "B": "$(id)", "C": "$(id)", "D": "`id`", "E": "`id`",
		}},
		{"no default expansion", "A=${UNSET:-fallback}\nB=${A:=x}", map[string]string{"A": "${UNSET:-fallback}", "B": "${A:=x}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := env.Parse(".env", strings.NewReader(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, vars(t, e)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			for _, k := range e.Keys() {
				if got := e.Source(k); got != ".env" {
					t.Errorf("Source(%q) = %q, want .env", k, got)
				}
			}
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src      string
		wantLine int
		reason   string // a fragment of the reason
	}{
		{"no equals", "A=1\nJUSTTEXT\n", 2, "expected KEY=value"},
		{"stray value line", "A=1\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n", 2, "expected KEY=value"},
		{"key starting with a digit", "1A=x", 1, "key of letters"},
		{"no key", "=x", 1, "key of letters"},
		{"bad key character", "A-B=x", 1, "expected KEY=value"},
		{"export without assignment", "export A", 1, "expected KEY=value"},
		{"unterminated double quote", "A=1\n\nB=\"open\nstill open", 3, "unterminated double-quoted"},
		{"unterminated single quote", "A='open", 1, "unterminated single-quoted"},
		{"backslash at the end", `A="x\`, 1, "unterminated double-quoted"},
		{"unknown escape", `A="C:\Users"`, 1, "unknown escape"},
		{"text after closing quote", `A="x"y`, 1, "after the closing quote of A"},
		{"text after single quote", "A='x' y", 1, "after the closing quote of A"},
		{"duplicate key", "A=1\nB=2\nA=3", 3, "A is set twice (first on line 1)"},
		{"line counts multi-line values", "A='1\n2\n3'\nB", 4, "expected KEY=value"},
		{"line counts CRLF", "A=1\r\nB=2\r\nC", 3, "expected KEY=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := env.Parse("app.env", strings.NewReader(tt.src))
			if !errors.Is(err, env.ErrSyntax) {
				t.Fatalf("Parse = %v, want ErrSyntax", err)
			}
			var se *env.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%v is not a *SyntaxError", err)
			}
			if se.Name != "app.env" || se.Line != tt.wantLine {
				t.Errorf("at %s:%d, want app.env:%d", se.Name, se.Line, tt.wantLine)
			}
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", se.Reason, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "env: syntax error: app.env:") {
				t.Errorf("Error() = %q, want it to start with the sentinel, name and line", err)
			}
		})
	}
}

func TestParseNameDefault(t *testing.T) {
	t.Parallel()
	e, err := env.Parse("", strings.NewReader("A=1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Source("A"); got != "dotenv" {
		t.Errorf("Source with no name = %q, want dotenv", got)
	}
}

func TestParseReaderErrors(t *testing.T) {
	t.Parallel()
	if _, err := env.Parse("x", nil); !errors.Is(err, env.ErrInvalidTarget) {
		t.Errorf("Parse(nil reader) = %v, want ErrInvalidTarget", err)
	}
	boom := errors.New("disk on fire")
	_, err := env.Parse("x.env", iotest.ErrReader(boom))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.env") {
		t.Errorf("Parse of a failing reader = %v, want the read error, naming x.env", err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("# app\nexport DB_HOST=db\nCMD=$(rm -rf /)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := env.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"DB_HOST": "db", "CMD": "$(rm -rf /)"}, vars(t, e)); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	if got := e.Source("DB_HOST"); got != path {
		t.Errorf("Source = %q, want the path %q", got, path)
	}

	if _, err := env.Load(filepath.Join(dir, "absent.env")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("A=1\nB='open\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var se *env.SyntaxError
	if _, err := env.Load(bad); !errors.As(err, &se) || se.Name != bad || se.Line != 2 {
		t.Errorf("Load of a malformed file = %v, want a *SyntaxError at %s:2", err, bad)
	}
}

func TestLoadOptional(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("DB_HOST=db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := env.LoadOptional(path)
	if err != nil || e.Source("DB_HOST") != path {
		t.Errorf("LoadOptional of a file = %v, %v; want its keys from %s", e, err, path)
	}

	for _, absent := range []string{filepath.Join(dir, "absent.env"), filepath.Join(dir, "no", "such", ".env")} {
		e, err := env.LoadOptional(absent)
		if err != nil || e.Len() != 0 {
			t.Errorf("LoadOptional(%s) = %v, %v; want an empty Env and no error", absent, e, err)
		}
	}

	// Something that exists at the path is read, and its failures reported.
	dangling := filepath.Join(dir, "dangling.env")
	if err := os.Symlink(filepath.Join(dir, "secrets", "not-mounted.env"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := env.LoadOptional(dangling); err == nil {
		t.Error("LoadOptional of a symbolic link to a missing file succeeded; it must say the target is missing")
	}
	if _, err := env.LoadOptional(dir); err == nil {
		t.Error("LoadOptional of a directory succeeded")
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("B='open\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := env.LoadOptional(bad); !errors.Is(err, env.ErrSyntax) {
		t.Errorf("LoadOptional of a malformed file = %v, want ErrSyntax", err)
	}
}

// TestParseReadsAllOfALargeValue guards against line-length limits: a
// certificate bundle in one variable is normal.
func TestParseReadsAllOfALargeValue(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	e, err := env.Parse("big", io.MultiReader(strings.NewReader("BIG="), strings.NewReader(big), strings.NewReader("\nB=1")))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Lookup("BIG"); got != big {
		t.Errorf("BIG has %d bytes, want %d", len(got), len(big))
	}
}

// TestParseReportsEverySyntaxError: a file with several bad lines yields one
// *SyntaxError per line, as Decode reports every problem at once, and the
// text quotes none of the values around them.
func TestParseReportsEverySyntaxError(t *testing.T) {
	t.Parallel()
	src := "GOOD=visible-secret-1\n" +
		"NOEQUALS hidden-secret-2\n" +
		"PASSWORD=\"C:\\hidden-secret-3\" \n" +
		"OK='fine'\n" +
		"1KEY=hidden-secret-4\n" +
		"LAST=visible-secret-5\n"
	_, err := env.Parse("app.env", strings.NewReader(src))
	if !errors.Is(err, env.ErrSyntax) {
		t.Fatalf("Parse = %v, want ErrSyntax", err)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Parse = %v, want every problem joined", err)
	}
	var lines []int
	for _, e := range joined.Unwrap() {
		var se *env.SyntaxError
		if !errors.As(e, &se) || se.Name != "app.env" {
			t.Fatalf("%v is not a *SyntaxError of app.env", e)
		}
		lines = append(lines, se.Line)
	}
	if diff := cmp.Diff([]int{2, 3, 5}, lines); diff != "" {
		t.Errorf("lines reported (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Error() = %q quotes a value", err)
	}
}
