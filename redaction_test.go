package ssot

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sample is what TestNoSecretInAnyRendering knows of one exported type.
type sample struct {
	// values are values of the type (or, for an interface, of the
	// library's implementations of it) with every secret below planted.
	values []any
	// secrets are planted values that no rendering may show: tokens,
	// keys, passwords, e-mail addresses, message payloads, session values.
	secrets []string
	// none says why the type has no values to render; only for interfaces
	// the library does not implement and for type constraints.
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
// Packages under internal/ are left out: they are not importable outside
// this module, and none of them holds a secret.
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
				if !holds(v, secret) {
					t.Errorf("%s value %d (%T) does not hold the secret %q: the sample proves nothing", name, i, v, secret)
				}
			}
			for how, out := range renderings(v) {
				if strings.Contains(out, "PANIC=") || strings.Contains(out, "LogValue panicked") {
					t.Errorf("%s value %d (%T), %s panicked: %s", name, i, v, how, out)
				}
				for _, secret := range s.secrets {
					if form, ok := shows(out, secret); ok {
						t.Errorf("%s value %d (%T), %s shows the secret %q (%s):\n%s", name, i, v, how, secret, form, out)
					}
				}
			}
		}
	}
}

// renderings returns v as every fmt verb, String, GoString and both slog
// handlers print it, and the same for v inside a struct field and for a nil
// pointer of v's type.
func renderings(v any) map[string]string {
	out := make(map[string]string)
	add := func(prefix string, v any) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out[prefix+verb] = fmt.Sprintf(verb, v)
		}
		out[prefix+"%+v in a struct"] = fmt.Sprintf("%+v", struct{ Field any }{v})
		out[prefix+"%#v in a slice"] = fmt.Sprintf("%#v", []any{v})
		if s, ok := v.(fmt.Stringer); ok && !isNilPointer(v) {
			out[prefix+"String"] = s.String()
		}
		if g, ok := v.(fmt.GoStringer); ok && !isNilPointer(v) {
			out[prefix+"GoString"] = g.GoString()
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("sample", "value", v, slog.Group("group", "value", v))
		slog.New(slog.NewJSONHandler(&js, nil)).Info("sample", "value", v, slog.Group("group", "value", v))
		out[prefix+"slog text"] = text.String()
		out[prefix+"slog JSON"] = js.String()
	}
	add("", v)
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		add("nil pointer, ", reflect.Zero(rv.Type()).Interface())
		if rv.Type().Elem().Implements(reflect.TypeFor[slog.LogValuer]()) {
			// A method with a value receiver cannot run on a nil pointer;
			// slog reports that panic, and it is no leak.
			delete(out, "nil pointer, slog text")
			delete(out, "nil pointer, slog JSON")
		}
	}
	return out
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// shows reports whether out holds secret in one of the encodings a
// rendering could give it, and which.
func shows(out, secret string) (string, bool) {
	b := []byte(secret)
	decimal := make([]string, len(b))
	for i, c := range b {
		decimal[i] = strconv.Itoa(int(c))
	}
	b64 := base64.StdEncoding.EncodeToString(b)
	forms := map[string]string{
		"as is":         secret,
		"hex":           hex.EncodeToString(b),
		"upper hex":     strings.ToUpper(hex.EncodeToString(b)),
		"spaced hex":    fmt.Sprintf("% x", b),
		"base64":        b64[:len(b)/3*4], // the part that does not depend on what follows
		"decimal bytes": strings.Join(decimal, " "),
	}
	for form, s := range forms {
		if strings.Contains(out, s) {
			return form, true
		}
	}
	return "", false
}

// holds reports whether s is in v's value graph: in a string or bytes
// reachable through pointers, interfaces, structs, slices, arrays and maps
// (unexported fields included).
func holds(v any, s string) bool {
	seen := make(map[uintptr]bool)
	var walk func(rv reflect.Value, depth int) bool
	walk = func(rv reflect.Value, depth int) bool {
		if !rv.IsValid() || depth > 100 {
			return false
		}
		switch rv.Kind() {
		case reflect.String:
			return strings.Contains(rv.String(), s)
		case reflect.Pointer, reflect.Map:
			if rv.IsNil() || seen[rv.Pointer()] {
				return false
			}
			seen[rv.Pointer()] = true
			if rv.Kind() == reflect.Pointer {
				return walk(rv.Elem(), depth+1)
			}
			for it := rv.MapRange(); it.Next(); {
				if walk(it.Key(), depth+1) || walk(it.Value(), depth+1) {
					return true
				}
			}
		case reflect.Interface:
			return !rv.IsNil() && walk(rv.Elem(), depth+1)
		case reflect.Struct:
			if t := rv.Type(); t.PkgPath() == "sync/atomic" && strings.HasPrefix(t.Name(), "Pointer[") {
				// An atomic.Pointer[T] holds its *T as an unsafe.Pointer,
				// next to a zero-length array of *T that names the type.
				p := rv.FieldByName("v")
				elem := rv.Field(0).Type().Elem().Elem()
				return !p.IsNil() && walk(reflect.NewAt(elem, p.UnsafePointer()), depth+1)
			}
			for i := range rv.NumField() {
				if walk(rv.Field(i), depth+1) {
					return true
				}
			}
		case reflect.Slice, reflect.Array:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				b := make([]byte, rv.Len())
				for i := range b {
					b[i] = byte(rv.Index(i).Uint())
				}
				return bytes.Contains(b, []byte(s))
			}
			for i := range rv.Len() {
				if walk(rv.Index(i), depth+1) {
					return true
				}
			}
		}
		return false
	}
	return walk(reflect.ValueOf(v), 0)
}

// exportedTypes returns "package.Type" for every exported type declared in
// the non-test files of the library's packages, internal/ left out.
func exportedTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	var names []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "." {
				return nil
			}
			name := d.Name()
			if name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
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
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				if ts := spec.(*ast.TypeSpec); ts.Name.IsExported() {
					names = append(names, f.Name.Name+"."+ts.Name.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no exported types found; the walk is broken")
	}
	slices.Sort(names)
	return names
}
