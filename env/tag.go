package env

import "strings"

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
	case strings.ContainsAny(t.key, "= \t\r\n\x00"):
		return t, "key " + quote(t.key) + " holds a character no environment key can"
	}
	return t, ""
}

func quote(s string) string { return `"` + s + `"` }
