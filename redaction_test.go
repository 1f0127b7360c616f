package ssot

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/internal/testkit/leakcheck"
)

// sample is what TestNoSecretInAnyRendering knows of one exported type.
type sample struct {
	// values are values of the type (or, for an interface, of the
	// library's implementations of it) with every secret below planted.
	values []any
	// secrets are planted values that no rendering may show: tokens,
	// keys, passwords, e-mail addresses, message payloads, session values.
	secrets []string
	// none says why the type has no values to render: an interface the
	// library does not implement, a type constraint, or a test helper that
	// exists only with a live network peer.
	none string
}

// TestNoSecretInAnyRendering walks every exported type of every library
// package (listed by parsing the sources, so that a new type without a
// sample fails here) and renders each sample value with every fmt verb, its
// String and GoString methods, and both log/slog handlers, also inside a
// struct field and as a nil pointer. A planted secret must appear in none of
// the renderings, in any encoding they could take (as is, hex, base64,
// decimal bytes), and no rendering may panic. Each secret is first shown to
// be held by the value, so that a sample cannot pass by holding nothing.
//
// Internal packages are left out: they are not importable outside this
// module, and none of them holds a secret.
func TestNoSecretInAnyRendering(t *testing.T) {
	t.Parallel()
	types := exportedTypes(t)
	samples := redactionSamples(t)
	for _, name := range types {
		if _, ok := samples[name]; !ok {
			t.Errorf("exported type %s has no sample in redactionSamples: add one with every secret or personal field planted", name)
		}
	}
	for name, s := range samples {
		if !slices.Contains(types, name) {
			t.Errorf("redactionSamples has %s, which is not an exported type of a library package", name)
		}
		if len(s.values) == 0 && s.none == "" {
			t.Errorf("%s: a sample needs values, or a reason why the type has none", name)
		}
	}
	for _, name := range types {
		s := samples[name]
		for i, v := range s.values {
			for _, secret := range s.secrets {
				if !leakcheck.Holds(v, secret) {
					t.Errorf("%s value %d (%T) does not hold the secret %q: the sample proves nothing", name, i, v, secret)
				}
			}
			for how, out := range leakcheck.Renderings(v) {
				if leakcheck.Panicked(out) {
					t.Errorf("%s value %d (%T), %s panicked: %s", name, i, v, how, out)
				}
				for _, secret := range s.secrets {
					if form, ok := leakcheck.Shows(out, secret); ok {
						t.Errorf("%s value %d (%T), %s shows the secret %q (%s):\n%s", name, i, v, how, secret, form, out)
					}
				}
			}
		}
	}
}

// exportedTypes returns "package.Type" for every exported type declared in
// the non-test files of the library's packages, internal ones left out.
func exportedTypes(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, src := range librarySources(t, token.NewFileSet()) {
		if slices.Contains(strings.Split(filepath.ToSlash(src.path), "/"), "internal") {
			continue
		}
		for _, decl := range src.file.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				if ts := spec.(*ast.TypeSpec); ts.Name.IsExported() {
					names = append(names, src.file.Name.Name+"."+ts.Name.Name)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}
