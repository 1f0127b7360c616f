package env

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
)

// maxDepth bounds nesting, so a struct that contains a pointer to itself
// under a prefix is a tag error rather than endless recursion.
const maxDepth = 32

// Decode sets the fields of the struct dst points to from e, as their tags
// say:
//
//	Addr    string        `env:"ADDR" default:":8080"`
//	Token   string        `env:"API_TOKEN,required,secret"`
//	Timeout time.Duration `env:"TIMEOUT" default:"5s"`
//	DB      DBConfig      `env:",prefix=DB_"` // DBConfig's keys, each prefixed with DB_
//
// A field is set when its key is set, from the default when it is not, and
// otherwise left as it was, so values already in dst act as defaults too. A
// key set to the empty string is set: it makes a string empty and a slice
// empty, and is ErrInvalidValue for a number, a bool, a duration or a URL.
// Fields without an env tag are ignored, except embedded structs (and
// non-nil embedded pointers to structs), whose fields are decoded as if they
// were dst's own.
//
// # Tags
//
// `env:"KEY"` names the key; the options ",required" (unset is ErrMissing)
// and ",secret" (Check marks the key secret) follow it. `default:"…"` is the
// value used when the key is unset; it must parse as the field's type even
// when the key is set, and required with a default is ErrBadTag.
// `env:",prefix=P"` on a struct or pointer-to-struct field decodes that
// struct with P put before each of its keys; prefixes of nested structs add
// up, and a nil pointer is set to a new struct. `env:"-"` ignores a field,
// an embedded struct included.
//
// # Kinds
//
// string; bool (strconv.ParseBool); int and uint of every size, in base 10;
// float32 and float64 (NaN and infinities are refused); time.Duration
// (time.ParseDuration); url.URL and *url.URL (absolute: with a scheme);
// []byte (the value's bytes); any type whose pointer implements
// encoding.TextUnmarshaler, such as env.Name, netip.Addr or slog.Level;
// slices of any of these but []byte, comma-separated with spaces around each
// element trimmed; and pointers to any of these but pointers, which stay nil
// while the key is unset (so a *[]string tells unset from set-but-empty).
//
// # Errors
//
// Decode reports every problem at once: an errors.Join of *FieldError, each
// wrapping ErrMissing, ErrInvalidValue or ErrBadTag and naming the key and the
// field. No error contains a value, not even a fragment of one. Fields
// without problems are set even when others have them. dst that is not a
// non-nil pointer to a struct is ErrInvalidTarget.
func Decode(e Env, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%w: Decode needs a non-nil pointer to a struct, not %T", ErrInvalidTarget, dst)
	}
	d := decoder{env: e}
	d.walk(v.Elem(), "", "", 0)
	return errors.Join(d.errs...)
}

// decoder holds the state of one Decode or Check call.
type decoder struct {
	env Env
	// errs collects every problem; report, when not nil, collects every key.
	errs   []error
	report *Report
	// key is scratch space for prefix+key, reused for every nested key.
	key []byte
}

// walk decodes the fields of the struct v. prefix goes before each key;
// path is the Go path of v ("" at the top, "DB" for a nested field).
func (d *decoder) walk(v reflect.Value, prefix, path string, depth int) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, hasTag, def, hasDef := structTags(sf.Tag)
		if !hasTag {
			switch {
			case sf.Anonymous && sf.Type.Kind() == reflect.Struct,
				sf.Anonymous && isStructPointer(sf.Type) && !v.Field(i).IsNil():
				// An untagged embedded pointer is followed only when
				// set: allocating one nobody asked for would change dst.
				d.nested(v.Field(i), sf, prefix, path, depth)
			case hasDef:
				d.badTag(path, sf.Name, "", "default without an env key")
			}
			continue
		}
		if tag == "-" {
			continue
		}
		ft, reason := parseTag(tag)
		switch {
		case reason != "":
			d.badTag(path, sf.Name, ft.key, reason)
		case !sf.IsExported():
			d.badTag(path, sf.Name, ft.key, "unexported field")
		case ft.nested && hasDef:
			d.badTag(path, sf.Name, "", "default on a nested struct")
		case ft.nested:
			d.nested(v.Field(i), sf, prefix+ft.prefix, path, depth)
		case ft.required && hasDef:
			d.badTag(path, sf.Name, prefix+ft.key, "required with a default: the default would never be used")
		default:
			d.leaf(v.Field(i), sf.Name, path, prefix, ft, def, hasDef)
		}
	}
}

func isStructPointer(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

// nested decodes a struct or pointer-to-struct field, allocating a nil
// pointer.
func (d *decoder) nested(v reflect.Value, sf reflect.StructField, prefix, path string, depth int) {
	switch {
	case v.Kind() != reflect.Struct && !isStructPointer(v.Type()):
		d.badTag(path, sf.Name, "", "prefix= on a field that is not a struct or a pointer to one")
		return
	case depth >= maxDepth:
		d.badTag(path, sf.Name, "", "structs nested more than "+strconv.Itoa(maxDepth)+" levels deep")
		return
	case v.Kind() == reflect.Pointer && v.IsNil():
		if !v.CanSet() {
			d.badTag(path, sf.Name, "", "nil pointer to an unexported struct")
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
	}
	d.walk(reflect.Indirect(v), prefix, joinPath(path, sf.Name), depth+1)
}

// leaf decodes one keyed field.
func (d *decoder) leaf(v reflect.Value, name, path, prefix string, ft fieldTag, def string, hasDef bool) {
	k := kindOf(v.Type())
	if k == kindUnsupported {
		d.badTag(path, name, prefix+ft.key, "unsupported type "+v.Type().String())
		return
	}
	ent, ok := d.lookup(prefix, ft.key)
	if hasDef && ok {
		// A default that does not parse is a bug even while the key is
		// set; finding it now beats finding it when the key is removed.
		if reason := set(reflect.New(v.Type()).Elem(), k, def); reason != "" {
			d.badTag(path, name, prefix+ft.key, "default: "+reason)
			return
		}
	}
	switch {
	case ok:
		if reason := set(v, k, ent.value); reason != "" {
			d.problem(StatusInvalid, path, name, prefix+ft.key, ErrInvalidValue, reason, ft)
			return
		}
		d.record(StatusPresent, path, name, prefix, ft, ent.source)
	case hasDef:
		if reason := set(v, k, def); reason != "" {
			d.badTag(path, name, prefix+ft.key, "default: "+reason)
			return
		}
		d.record(StatusDefault, path, name, prefix, ft, "")
	case ft.required:
		d.problem(StatusMissing, path, name, prefix+ft.key, ErrMissing, "", ft)
	default:
		d.record(StatusUnset, path, name, prefix, ft, "")
	}
}

// lookup reads prefix+key without building the string: a map index with
// string(bytes) does not allocate.
func (d *decoder) lookup(prefix, key string) (entry, bool) {
	if prefix == "" {
		ent, ok := d.env.vars[key]
		return ent, ok
	}
	d.key = append(append(d.key[:0], prefix...), key...)
	ent, ok := d.env.vars[string(d.key)]
	return ent, ok
}

func (d *decoder) badTag(path, name, key, reason string) {
	d.problem(StatusBadTag, path, name, key, ErrBadTag, reason, fieldTag{})
}

func (d *decoder) problem(s Status, path, name, key string, sentinel error, reason string, ft fieldTag) {
	field := joinPath(path, name)
	d.errs = append(d.errs, &FieldError{Field: field, Key: key, Err: sentinel, Reason: reason})
	if d.report != nil {
		d.report.Keys = append(d.report.Keys, KeyReport{
			Key: key, Field: field, Status: s, Required: ft.required, Secret: ft.secret, Reason: reason,
		})
	}
}

// record notes a key without a problem; only Check keeps it.
func (d *decoder) record(s Status, path, name, prefix string, ft fieldTag, source string) {
	if d.report == nil {
		return
	}
	d.report.Keys = append(d.report.Keys, KeyReport{
		Key: prefix + ft.key, Field: joinPath(path, name), Status: s,
		Required: ft.required, Secret: ft.secret, Source: source,
	})
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
