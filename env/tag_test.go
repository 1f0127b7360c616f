package env

import (
	"reflect"
	"testing"
)

// FuzzStructTags holds the one-pass tag scanner to reflect's reading of the
// same tag, escapes and malformed tags included.
func FuzzStructTags(f *testing.F) {
	for _, seed := range []string{
		``, `env:"A"`, `env:"A,required" default:"x"`, `default:"1s" env:"T"`,
		`json:"a" env:"B"`, `env:"A" env:"B"`, `env:"a\"b" default:"c\\d"`, `env:"\x"`,
		`env:"unterminated`, `env: "space"`, `e nv:"x"`, `:"x"`, `env:"A"default:"x"`,
		`  env:"A"   default:""  `, `env:"\u00e9"`, `default:"x`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		st := reflect.StructTag(tag)
		env, hasEnv, def, hasDef := structTags(st)
		wantEnv, wantHasEnv := st.Lookup("env")
		wantDef, wantHasDef := st.Lookup("default")
		if env != wantEnv || hasEnv != wantHasEnv || def != wantDef || hasDef != wantHasDef {
			t.Fatalf("structTags(%q) = %q %v, %q %v; reflect says %q %v, %q %v",
				tag, env, hasEnv, def, hasDef, wantEnv, wantHasEnv, wantDef, wantHasDef)
		}
	})
}
