// Package leakcheck renders values every way a service could print or log
// them, and finds secrets in what comes out, for the tests that prove no
// secret leaks through fmt or log/slog.
package leakcheck

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
)

// Renderings returns v as every fmt verb, String, GoString and both slog
// handlers print it, and the same for v inside a struct field and for a nil
// pointer of v's type.
func Renderings(v any) map[string]string {
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

// Shows reports whether out holds secret in one of the encodings a
// rendering could give it, and which.
func Shows(out, secret string) (string, bool) {
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

// Holds reports whether s is in v's value graph: in a string or bytes
// reachable through pointers, interfaces, structs, slices, arrays and maps
// (unexported fields included).
func Holds(v any, s string) bool {
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

// Panicked reports whether a rendering records a panic: fmt's "%!v(PANIC="
// or slog's "LogValue panicked".
func Panicked(out string) bool {
	return strings.Contains(out, "PANIC=") || strings.Contains(out, "LogValue panicked")
}
