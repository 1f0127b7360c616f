package env

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
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
// pass, with the syntax of reflect.StructTag.Lookup, which would scan the
// tag once per key and unquote every match; Decode reads two keys of every
// field on each call, so this is on its hot path.
func structTags(st reflect.StructTag) (env string, hasEnv bool, def string, hasDef bool) {
	tag := string(st)
	var envSeen, defSeen bool
	for {
		tag = strings.TrimLeft(tag, " ")
		colon := strings.IndexByte(tag, ':')
		if colon <= 0 || colon+1 >= len(tag) || tag[colon+1] != '"' {
			break
		}
		name := tag[:colon]
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c == '"' || c == 0x7f {
				return env, hasEnv, def, hasDef
			}
		}
		rest := tag[colon+2:]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			break
		}
		escaped := strings.IndexByte(rest[:end], '\\') >= 0
		if escaped {
			// A backslash may escape a quote: find the real end.
			end = 0
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(rest) {
				break
			}
		}
		value := rest[:end]
		tag = rest[end+1:]
		// Like Lookup, only the first entry of a name counts, even when
		// it does not unquote.
		if (name != "env" || envSeen) && (name != "default" || defSeen) {
			continue
		}
		ok := true
		if escaped || strings.IndexByte(value, '\n') >= 0 || !utf8.ValidString(value) {
			// Unquote refuses a newline and replaces invalid UTF-8.
			var err error
			value, err = strconv.Unquote(`"` + value + `"`)
			ok = err == nil
		}
		if name == "env" {
			envSeen = true
			if ok {
				env, hasEnv = value, true
			}
		} else {
			defSeen = true
			if ok {
				def, hasDef = value, true
			}
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
