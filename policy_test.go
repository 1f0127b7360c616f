package ssot

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLibraryPolicy enforces two promises of the library module: no
// package-level mutable state (no package-level var other than `var _ T = …`,
// no init functions) and zero runtime dependencies (non-test files import only
// the standard library and this module).
func TestLibraryPolicy(t *testing.T) {
	t.Parallel()
	module := modulePath(t)
	fset := token.NewFileSet()
	for _, src := range librarySources(t, fset) {
		for _, v := range policyViolations(fset, src.file, module) {
			t.Error(v)
		}
	}
}

// librarySource is one non-test Go file of the library module.
type librarySource struct {
	path string // relative to the module's root
	file *ast.File
}

// librarySources parses, with their comments, the non-test Go files of the
// library module: every directory below this one but testdata, hidden ones
// and other modules (examples/, bench/, contrib/*).
func librarySources(t *testing.T, fset *token.FileSet) []librarySource {
	t.Helper()
	var out []librarySource
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "." {
				return nil
			}
			name := d.Name()
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, librarySource{path: path, file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no library source files found; the walk is broken")
	}
	return out
}

func TestPolicyViolations(t *testing.T) {
	t.Parallel()
	const module = "github.com/ssotkit/ssot"
	tests := []struct {
		name string
		src  string
		want int
	}{
		{"clean", `package p
import (
	"errors"
	"github.com/ssotkit/ssot/env"
)
const ErrX = sentinel("p: x")
type sentinel string
var _ error = (*T)(nil)
var _, _ = 1, 2
func f() { var local = errors.New("x"); _ = local; _ = env.Name(0) }
type T struct{}
func (T) init() {}
`, 0},
		{"package var", "package p\nvar cache = map[string]int{}\n", 1},
		{"var block", "package p\nvar (\n\t_ = 1\n\tcount int\n)\n", 1},
		{"mixed names", "package p\nvar _, x = 1, 2\n", 1},
		{"init", "package p\nfunc init() {}\n", 1},
		{"third-party import", "package p\nimport \"golang.org/x/sync/singleflight\"\n", 1},
		{"lookalike module", "package p\nimport \"github.com/ssotkit/ssotx/env\"\n", 1},
		{"everything", "package p\nimport \"example.com/x\"\nvar y int\nfunc init() {}\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", tt.src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			got := policyViolations(fset, f, module)
			if len(got) != tt.want {
				t.Errorf("got %d violations %q, want %d", len(got), got, tt.want)
			}
		})
	}
}

func policyViolations(fset *token.FileSet, f *ast.File, module string) []string {
	var out []string
	report := func(pos token.Pos, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(pos), fmt.Sprintf(format, args...)))
	}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			report(imp.Pos(), "unreadable import %s", imp.Path.Value)
			continue
		}
		if !isStdlib(path) && path != module && !strings.HasPrefix(path, module+"/") {
			report(imp.Pos(), "import %q is neither the standard library nor this module", path)
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" {
				report(d.Pos(), "func init is not allowed")
			}
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, spec := range d.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if name.Name != "_" {
						report(name.Pos(), "package-level var %s is mutable state", name.Name)
					}
				}
			}
		}
	}
	return out
}

// isStdlib reports whether an import path belongs to the standard library,
// whose first path element never contains a dot.
func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func modulePath(t *testing.T) string {
	t.Helper()
	f, err := os.Open("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

// TestNoDeprecatedUse checks that no README, example or test of any module
// of the repository calls a deprecated library function, except the tests
// of the function's own package: a deprecated form is kept for
// compatibility only, and code people copy must show the one way. Every
// function whose doc says "Deprecated:" is checked, and so is each non-error
// form below, which must be deprecated in favour of the form that returns
// an error, since a failure it cannot report is a silent one.
func TestNoDeprecatedUse(t *testing.T) {
	t.Parallel()
	mustBeDeprecated := map[string]string{"middleware.Authenticate": "middleware.NewAuthenticate"}
	deprecated := deprecatedFuncs(t)
	for name, instead := range mustBeDeprecated {
		if _, ok := deprecated[name]; !ok {
			t.Errorf("%s returns no error for bad arguments, so its doc must say \"Deprecated: use %s\"", name, instead)
			deprecated[name] = ""
		}
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			for name, dir := range deprecated {
				if strings.Contains(line, name+"(") && filepath.Dir(path) != dir {
					t.Errorf("%s:%d calls the deprecated %s", path, i+1, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deprecatedFuncs maps "package.Func", for every top-level function of the
// library whose doc says "Deprecated:", to the directory of its package.
func deprecatedFuncs(t *testing.T) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, src := range librarySources(t, token.NewFileSet()) {
		for _, decl := range src.file.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Doc != nil && strings.Contains(fd.Doc.Text(), "Deprecated:") {
				out[src.file.Name.Name+"."+fd.Name.Name] = filepath.Dir(src.path)
			}
		}
	}
	return out
}

// TestDotenvFilesAreIgnored checks that git ignores a .env file in every
// directory: the chat reads one from its working directory, and it holds
// secrets.
func TestDotenvFilesAreIgnored(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.TrimSpace(line) == ".env" {
			return
		}
	}
	t.Error(`.gitignore has no line ".env", so a dotenv file with secrets could be committed`)
}
