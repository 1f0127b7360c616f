package env

import (
	"encoding"
	"errors"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// kind is how a field's value is converted from its text.
type kind uint8

const (
	kindUnsupported kind = iota
	kindString
	kindBool
	kindInt
	kindUint
	kindFloat
	kindDuration
	kindURL
	kindText // encoding.TextUnmarshaler
	kindBytes
	kindSlice
	kindPointer
)

// kindOf classifies t. TextUnmarshaler comes first so that a named type
// with its own parser (env.Name, netip.Addr, slog.Level) is not read as the
// integer or struct it is underneath.
func kindOf(t reflect.Type) kind {
	// Unnamed and predeclared types have no methods, which spares the
	// method-set search on the common fields.
	if t.PkgPath() != "" || t.Kind() == reflect.Struct || t.Kind() == reflect.Pointer {
		switch t {
		case reflect.TypeFor[time.Duration]():
			return kindDuration
		case reflect.TypeFor[url.URL]():
			return kindURL
		}
		if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
			return kindText
		}
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kindUint
	case reflect.Float32, reflect.Float64:
		return kindFloat
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && kindOf(t.Elem()) == kindUint {
			return kindBytes
		}
		if k := kindOf(t.Elem()); k != kindUnsupported && k != kindSlice && k != kindBytes {
			return kindSlice
		}
	case reflect.Pointer:
		if k := kindOf(t.Elem()); k != kindUnsupported && k != kindPointer {
			return kindPointer
		}
	}
	return kindUnsupported
}

// set converts raw into v, which must be settable and of kind k. It returns
// "" on success and otherwise a reason that never quotes raw: the text of
// strconv and url errors repeats their input, so it is dropped.
func set(v reflect.Value, k kind, raw string) string {
	t := v.Type()
	switch k {
	case kindString:
		v.SetString(raw)
	case kindBool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return "not a boolean (true, false, 1, 0, t, f)"
		}
		v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(raw, 10, t.Bits())
		if err != nil {
			return numReason(err, "not an integer", t)
		}
		v.SetInt(n)
	case kindUint:
		n, err := strconv.ParseUint(raw, 10, t.Bits())
		if err != nil {
			return numReason(err, "not an unsigned integer", t)
		}
		v.SetUint(n)
	case kindFloat:
		f, err := strconv.ParseFloat(raw, t.Bits())
		if err != nil {
			return numReason(err, "not a number", t)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "not a finite number"
		}
		v.SetFloat(f)
	case kindDuration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return "not a duration (such as 300ms, 1.5s or 2h45m)"
		}
		v.SetInt(int64(d))
	case kindURL:
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" {
			return "not an absolute URL (scheme://…)"
		}
		v.Set(reflect.ValueOf(u).Elem())
	case kindText:
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw)); err != nil {
			return "rejected by " + t.String() + ".UnmarshalText"
		}
	case kindBytes:
		v.SetBytes([]byte(raw))
	case kindSlice:
		return setSlice(v, raw)
	case kindPointer:
		p := reflect.New(t.Elem())
		if reason := set(p.Elem(), kindOf(t.Elem()), raw); reason != "" {
			return reason
		}
		v.Set(p)
	default:
		return "unsupported type " + t.String()
	}
	return ""
}

// setSlice splits raw on commas and converts each element, trimming spaces
// around it. An empty raw is an empty, non-nil slice: the key is set, to no
// elements.
func setSlice(v reflect.Value, raw string) string {
	if raw == "" {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return ""
	}
	n := strings.Count(raw, ",") + 1
	if p, ok := v.Addr().Interface().(*[]string); ok {
		// The common case, without a reflect call per element.
		parts := make([]string, 0, n)
		for part := range strings.SplitSeq(raw, ",") {
			parts = append(parts, strings.TrimSpace(part))
		}
		*p = parts
		return ""
	}
	elem := kindOf(v.Type().Elem())
	s := reflect.MakeSlice(v.Type(), n, n)
	i := 0
	for part := range strings.SplitSeq(raw, ",") {
		if reason := set(s.Index(i), elem, strings.TrimSpace(part)); reason != "" {
			return "element " + strconv.Itoa(i+1) + " of the list: " + reason
		}
		i++
	}
	v.Set(s)
	return ""
}

func numReason(err error, syntax string, t reflect.Type) string {
	if errors.Is(err, strconv.ErrRange) {
		return "out of range for " + t.String()
	}
	return syntax
}
