package ssot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sentinelDocPackages are the packages whose sentinels' docs must name
// every exported function that can return them.
func sentinelDocPackages() []string { return []string{"auth", "env", "middleware", "statemachine"} }

// TestSentinelDocsNameEveryReturn checks, for each sentinel error of the
// packages above, that its doc comment names every exported function or
// method that can return it ("New", "Unified.Authenticate"), so a reader of
// the doc knows every place it comes from; for an Unwrap method, naming its
// type is enough. A function can return a sentinel when its body, or the
// body of a function of the package it calls, uses the sentinel other than
// in a comparison (errors.Is, errors.As, ==, !=). Calls are matched by
// name, which over-approximates: where a function cannot in fact return the
// sentinel, the doc says so ("Standard … never returns it"). Functions
// without an error result, and calls of Error, String, Unwrap and Must…
// functions, return no error and are left out.
//
// It also checks that every sentinel's text starts with its package's name.
func TestSentinelDocsNameEveryReturn(t *testing.T) {
	t.Parallel()
	for _, dir := range append(sentinelDocPackages(), "wsmanager") {
		pkg := parseSentinelPackage(t, dir)
		for name, s := range pkg.sentinels {
			if !strings.HasPrefix(s.text, dir+": ") {
				t.Errorf("%s.%s: text %q does not start with %q", dir, name, s.text, dir+": ")
			}
		}
		if !slices.Contains(sentinelDocPackages(), dir) {
			continue
		}
		for name, fns := range pkg.returners() {
			doc := strings.Join(strings.Fields(pkg.sentinels[name].doc), " ")
			for _, fn := range fns {
				mention := fn
				if recv, method, ok := strings.Cut(fn, "."); ok && method == "Unwrap" {
					mention = recv
				}
				if !namesWord(doc, mention) {
					t.Errorf("%s.%s: its doc does not name %s, which can return it:\n\t%s", dir, name, fn, doc)
				}
			}
		}
	}
}

// namesWord reports whether doc holds name as a whole word: "New" is not
// named by "NewStatic", nor "Unified.Authenticate" by
// "Unified.AuthenticateRequest".
func namesWord(doc, name string) bool {
	isWord := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(doc[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !isWord(doc[start-1])) && (end == len(doc) || !isWord(doc[end])) {
			return true
		}
		i = start + 1
	}
}

type sentinelDecl struct{ text, doc string }

type funcInfo struct {
	key   string          // "Name" or "Type.Name"
	api   bool            // exported, on an exported type, with an error result
	refs  map[string]bool // sentinels used other than in a comparison
	calls map[string]bool // names of the package's functions it calls
}

type sentinelPackage struct {
	sentinels map[string]sentinelDecl
	funcs     []*funcInfo
}

func parseSentinelPackage(t *testing.T, dir string) *sentinelPackage {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	pkg := &sentinelPackage{sentinels: make(map[string]sentinelDecl)}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		imported := make(map[string]bool)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imported[name] = true
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				pkg.addSentinels(d)
			case *ast.FuncDecl:
				pkg.funcs = append(pkg.funcs, newFuncInfo(d, imported))
			}
		}
	}
	if len(pkg.sentinels) == 0 {
		t.Fatalf("%s: no sentinels found; the parse is broken", dir)
	}
	return pkg
}

// addSentinels records the constants declared as sentinel("…").
func (p *sentinelPackage) addSentinels(d *ast.GenDecl) {
	if d.Tok != token.CONST {
		return
	}
	for _, spec := range d.Specs {
		vs := spec.(*ast.ValueSpec)
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				continue
			}
			call, ok := vs.Values[i].(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				continue
			}
			if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "sentinel" {
				continue
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				continue
			}
			text, _ := strconv.Unquote(lit.Value)
			p.sentinels[name.Name] = sentinelDecl{text: text, doc: vs.Doc.Text()}
		}
	}
}

func newFuncInfo(d *ast.FuncDecl, imported map[string]bool) *funcInfo {
	fi := &funcInfo{key: d.Name.Name, refs: make(map[string]bool), calls: make(map[string]bool)}
	exported := d.Name.IsExported()
	if d.Recv != nil {
		recv := receiverType(d.Recv.List[0].Type)
		fi.key = recv + "." + d.Name.Name
		exported = exported && ast.IsExported(recv)
	}
	hasErr := false
	if d.Type.Results != nil {
		for _, r := range d.Type.Results.List {
			if id, ok := r.Type.(*ast.Ident); ok && id.Name == "error" {
				hasErr = true
			}
		}
	}
	fi.api = exported && hasErr
	if d.Body == nil {
		return fi
	}
	compared := make(map[*ast.Ident]bool)
	ast.Inspect(d.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch fun := n.Fun.(type) {
			case *ast.SelectorExpr:
				if pk, ok := fun.X.(*ast.Ident); ok && imported[pk.Name] {
					if pk.Name == "errors" && (fun.Sel.Name == "Is" || fun.Sel.Name == "As") {
						for _, a := range n.Args {
							if id, ok := a.(*ast.Ident); ok {
								compared[id] = true
							}
						}
					}
					return true // another package's function
				}
				fi.calls[fun.Sel.Name] = true
			case *ast.Ident:
				fi.calls[fun.Name] = true
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				for _, o := range []ast.Expr{n.X, n.Y} {
					if id, ok := o.(*ast.Ident); ok {
						compared[id] = true
					}
				}
			}
		case *ast.Ident:
			if !compared[n] {
				fi.refs[n.Name] = true
			}
		}
		return true
	})
	return fi
}

func receiverType(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	switch x := e.(type) {
	case *ast.IndexExpr:
		e = x.X
	case *ast.IndexListExpr:
		e = x.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// returners maps each sentinel to the API functions that can return it,
// sorted.
func (p *sentinelPackage) returners() map[string][]string {
	byName := make(map[string][]*funcInfo)
	for _, f := range p.funcs {
		_, name, found := strings.Cut(f.key, ".")
		if !found {
			name = f.key
		}
		byName[name] = append(byName[name], f)
	}
	out := make(map[string][]string)
	for _, api := range p.funcs {
		if !api.api {
			continue
		}
		reached := make(map[string]bool)
		seen := make(map[*funcInfo]bool)
		var walk func(f *funcInfo)
		walk = func(f *funcInfo) {
			if seen[f] {
				return
			}
			seen[f] = true
			for r := range f.refs {
				reached[r] = true
			}
			for c := range f.calls {
				if c == "Error" || c == "String" || c == "GoString" || c == "Unwrap" || strings.HasPrefix(c, "Must") {
					continue
				}
				for _, g := range byName[c] {
					walk(g)
				}
			}
		}
		walk(api)
		for s := range reached {
			if _, ok := p.sentinels[s]; ok {
				out[s] = append(out[s], api.key)
			}
		}
	}
	for _, fns := range out {
		slices.Sort(fns)
	}
	return out
}
