package examples_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// snippetImports are the packages the README's Go snippets may use, by the
// name they use them by.
var snippetImports = map[string]string{
	"context":     "context",
	"http":        "net/http",
	"net":         "net",
	"os":          "os",
	"signal":      "os/signal",
	"syscall":     "syscall",
	"time":        "time",
	"ssot":        "github.com/ssotkit/ssot",
	"auth":        "github.com/ssotkit/ssot/auth",
	"env":         "github.com/ssotkit/ssot/env",
	"middleware":  "github.com/ssotkit/ssot/middleware",
	"wsmanager":   "github.com/ssotkit/ssot/wsmanager",
	"gobwasws":    "github.com/ssotkit/ssot/contrib/gobwasws",
	"jwtauth":     "github.com/ssotkit/ssot/contrib/jwtauth",
	"oidcauth":    "github.com/ssotkit/ssot/contrib/oidcauth",
	"natsbroker":  "github.com/ssotkit/ssot/contrib/natsbroker",
	"redisbroker": "github.com/ssotkit/ssot/contrib/redisbroker",
}

// snippetContext is what a README snippet may use without declaring it:
// the service's own parts, which the prose around each snippet names.
const snippetContext = `
	var (
		ctx      context.Context
		handler  wsmanager.Handler
		mux      *http.ServeMux
		natsURL  string
		redisURL string
		addrs    []string
		key      []byte
		ln       net.Listener
		srv      *http.Server
		factory  *wsmanager.Factory
		authn    *auth.Unified
	)
`

// TestReadmeSnippetsCompile type-checks every Go snippet of the
// repository's README against the packages as they are, each as the body
// of a function: a snippet that names an API that does not exist, or
// declares a variable twice, fails. Variables a snippet declares and does
// not use are allowed: a snippet is a part of a program.
func TestReadmeSnippetsCompile(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := goSnippets(readme)
	if len(snippets) < 4 {
		t.Fatalf("found %d Go snippets in the README, want the golden path, resuming, clusters and shutting down", len(snippets))
	}
	imp := exportImporter(t)
	for _, s := range snippets {
		src := snippetFile(s.code)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "snippet.go", src, 0)
		if err != nil {
			t.Errorf("the README's snippet at line %d does not parse: %v\n%s", s.line, err, s.code)
			continue
		}
		var problems []string
		conf := types.Config{Importer: imp, Error: func(err error) {
			msg := err.Error()
			if strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") {
				return
			}
			problems = append(problems, msg)
		}}
		_, _ = conf.Check("snippet", fset, []*ast.File{f}, nil)
		if len(problems) > 0 {
			t.Errorf("the README's snippet at line %d does not compile:\n%s\n%s", s.line, strings.Join(problems, "\n"), s.code)
		}
	}
}

type snippet struct {
	line int
	code string
}

// goSnippets returns the README's ```go blocks with their first lines.
func goSnippets(readme []byte) []snippet {
	var out []snippet
	sc := bufio.NewScanner(bytes.NewReader(readme))
	var cur *snippet
	var b strings.Builder
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &snippet{line: n + 1}
			b.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = b.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return out
}

// snippetFile is a file whose one function's body is code, in a block of
// its own inside snippetContext, so that it may declare names the context
// has.
func snippetFile(code string) string {
	var b strings.Builder
	b.WriteString("package snippet\n\nimport (\n")
	for name, path := range snippetImports {
		fmt.Fprintf(&b, "\t%s %q\n", name, path)
	}
	b.WriteString(")\n\nfunc _() {\n" + snippetContext + "\t{\n" + code + "\t}\n}\n")
	return b.String()
}

// exportImporter is a go/types importer that reads the compiler's export
// data for the snippets' packages and their dependencies, as `go list
// -export` builds it in this module.
func exportImporter(t *testing.T) types.Importer {
	t.Helper()
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}
	for _, path := range snippetImports {
		args = append(args, path)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, "="); ok && file != "" {
			exports[path] = file
		}
	}
	return importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
}

// TestReadmeGoVersion: the README names the Go version that every module
// of the repository declares.
func TestReadmeGoVersion(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Go (1\.\d+) or later`).FindSubmatch(readme)
	if m == nil {
		t.Fatal(`the README names no "Go 1.N or later"`)
	}
	want := string(m[1])
	mods, err := exec.Command("git", "ls-files", "--full-name", "--", ":(top)**/go.mod", ":(top)go.mod").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for mod := range strings.FieldsSeq(string(mods)) {
		b, err := os.ReadFile("../" + mod)
		if err != nil {
			t.Fatal(err)
		}
		v := regexp.MustCompile(`(?m)^go (1\.\d+)`).FindSubmatch(b)
		if v == nil {
			t.Errorf("%s declares no go version", mod)
		} else if string(v[1]) != want {
			t.Errorf("%s declares go %s, the README Go %s", mod, v[1], want)
		}
	}
}
