package env

import (
	"reflect"
	"strconv"
	"strings"
)

// fieldTag is a parsed `env:"…"` tag.
type fieldTag struct {
	key      string
	prefix   string
	nested   bool // prefix= was given: the field is a struct of more keys
	required bool
	secret   bool
}

// parseTag parses the value of an env tag: "KEY", "KEY,required",
// "KEY,secret", "KEY,required,secret" or ",prefix=P". It returns a reason
// when the tag is malformed. Tags are source code, not configuration, so the
// reason may quote them.
func parseTag(tag string) (fieldTag, string) {
	key, opts, hasOpts := strings.Cut(tag, ",")
	t := fieldTag{key: key}
	for hasOpts {
		var opt string
		opt, opts, hasOpts = strings.Cut(opts, ",")
		switch {
		case opt == "required":
			t.required = true
		case opt == "secret":
			t.secret = true
		case strings.HasPrefix(opt, "prefix="):
			t.nested = true
			t.prefix = opt[len("prefix="):]
		default:
			return t, "unknown option " + quote(opt) + " (want required, secret or prefix=…)"
		}
	}
	switch {
	case t.nested && (t.key != "" || t.required || t.secret):
		return t, "prefix= is for a nested struct and takes no key, required or secret"
	case !t.nested && t.key == "":
		return t, "no key"
	case badKeyByte(t.key):
		return t, "key " + quote(t.key) + " holds a character no environment key can"
	}
	return t, ""
}

func quote(s string) string { return `"` + s + `"` }

// structTags returns the env and default entries of a struct tag in one
// pass. It follows reflect.StructTag.Lookup, which would scan the tag once
// per key and unquote every match; Decode reads two keys of every field on
// each call, so this is on its hot path.
func structTags(tag reflect.StructTag) (env string, hasEnv bool, def string, hasDef bool) {
	for tag != "" {
		i := 0
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		tag = tag[i:]
		if tag == "" {
			break
		}
		i = 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			break
		}
		name := string(tag[:i])
		tag = tag[i+1:]
		i = 1
		escaped := false
		for i < len(tag) && tag[i] != '"' {
			if tag[i] == '\\' {
				escaped = true
				i++
			}
			i++
		}
		if i >= len(tag) {
			break
		}
		quoted := string(tag[:i+1])
		tag = tag[i+1:]
		if (name != "env" || hasEnv) && (name != "default" || hasDef) {
			continue
		}
		value := quoted[1 : len(quoted)-1]
		if escaped {
			var err error
			if value, err = strconv.Unquote(quoted); err != nil {
				break
			}
		}
		if name == "env" {
			env, hasEnv = value, true
		} else {
			def, hasDef = value, true
		}
	}
	return env, hasEnv, def, hasDef
}

// badKeyByte reports whether key holds a byte no environment key can: '=',
// white space or NUL.
func badKeyByte(key string) bool {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '=', ' ', '\t', '\r', '\n', 0:
			return true
		}
	}
	return false
}
