package env

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/tabwriter"
)

// Status is what Check found for one key. The zero value is no status; Check
// never reports it.
type Status uint8

// The statuses of a key, as Check reports them.
const (
	// StatusPresent: the key is set and its value is valid.
	StatusPresent Status = iota + 1
	// StatusDefault: the key is unset and its default applies.
	StatusDefault
	// StatusUnset: the key is unset, optional and without a default.
	StatusUnset
	// StatusMissing: the key is required and unset.
	StatusMissing
	// StatusInvalid: the key is set to a value its field's type refuses.
	StatusInvalid
	// StatusBadTag: the field's tag is wrong; a bug to fix in code.
	StatusBadTag
)

// String returns "present", "default", "unset", "missing", "invalid" or
// "bad tag".
func (s Status) String() string {
	switch s {
	case StatusPresent:
		return "present"
	case StatusDefault:
		return "default"
	case StatusUnset:
		return "unset"
	case StatusMissing:
		return "missing"
	case StatusInvalid:
		return "invalid"
	case StatusBadTag:
		return "bad tag"
	default:
		return fmt.Sprintf("env.Status(%d)", uint8(s))
	}
}

// MarshalText returns String, so a Report reads well as JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// KeyReport is what Check found for one field. It holds names only: no
// value, default or fragment of either. It is a plain value, safe to read
// concurrently; its zero value reports nothing (Status 0).
type KeyReport struct {
	// Key is the environment key, prefixes included.
	Key string `json:"key"`
	// Field is the Go path of the field, such as "DB.Port".
	Field string `json:"field"`
	// Status is what was found.
	Status Status `json:"status"`
	// Required and Secret repeat the tag's options.
	Required bool `json:"required,omitempty"`
	Secret   bool `json:"secret,omitempty"`
	// Source is the layer that supplied a present key ("os", ".env", …).
	Source string `json:"source,omitempty"`
	// Reason says why a key is invalid or a tag is bad.
	Reason string `json:"reason,omitempty"`
}

// Report is the result of Check: one KeyReport per field with an env key, in
// field order, nested structs in place. It is meant to be printed at start-up
// or served from a health endpoint: it names keys, their status and the layer
// they came from, and never holds a value, so it is safe to show whatever
// the keys hold. A Report is a plain value, safe to read concurrently; the
// zero value has no keys and is OK.
type Report struct {
	Keys []KeyReport `json:"keys"`
}

// Check reports what Decode would find for each field of the struct type cfg
// points to: which keys are present and from where, which take their
// default, which required keys are missing and which values are invalid. cfg
// may be a nil pointer such as (*Config)(nil): only its type is used and
// nothing it points to is changed. Check returns an error only for a cfg that
// is not a pointer to a struct (ErrInvalidTarget); problems with the
// environment are in the Report (see Report.Err).
func Check(e Env, cfg any) (Report, error) {
	t := reflect.TypeOf(cfg)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return Report{}, fmt.Errorf("%w: Check needs a pointer to a struct, not %T", ErrInvalidTarget, cfg)
	}
	d := decoder{env: e, report: &Report{Keys: []KeyReport{}}}
	d.walk(reflect.New(t.Elem()).Elem(), "", "", 0)
	return *d.report, nil
}

// OK reports whether Decode would succeed: no key is missing or invalid and
// no tag is bad.
func (r Report) OK() bool {
	for _, k := range r.Keys {
		if k.Status >= StatusMissing {
			return false
		}
	}
	return true
}

// Missing returns the required keys that are unset, in field order.
func (r Report) Missing() []string { return r.keys(StatusMissing) }

// Invalid returns the keys whose values do not parse, in field order.
func (r Report) Invalid() []string { return r.keys(StatusInvalid) }

// Present returns the keys that are set to valid values, in field order.
func (r Report) Present() []string { return r.keys(StatusPresent) }

func (r Report) keys(s Status) []string {
	var out []string
	for _, k := range r.Keys {
		if k.Status == s {
			out = append(out, k.Key)
		}
	}
	return out
}

// Err returns the problems of the report as Decode would: an errors.Join of
// *FieldError, or nil when OK.
func (r Report) Err() error {
	var errs []error
	for _, k := range r.Keys {
		var sentinel error
		switch k.Status {
		case StatusMissing:
			sentinel = ErrMissing
		case StatusInvalid:
			sentinel = ErrInvalidValue
		case StatusBadTag:
			sentinel = ErrBadTag
		default:
			continue
		}
		errs = append(errs, &FieldError{Field: k.Field, Key: k.Key, Err: sentinel, Reason: k.Reason})
	}
	return errors.Join(errs...)
}

// String returns the report as an aligned table, one key a line:
//
//	KEY        STATUS   SOURCE  NOTE
//	DB_HOST    present  os
//	API_TOKEN  missing          required, secret
func (r Report) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tSTATUS\tSOURCE\tNOTE")
	for _, k := range r.Keys {
		var note []string
		if k.Required {
			note = append(note, "required")
		}
		if k.Secret {
			note = append(note, "secret")
		}
		if k.Reason != "" {
			note = append(note, k.Reason)
		}
		key := k.Key
		if key == "" {
			key = "(field " + k.Field + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", key, k.Status, k.Source, strings.Join(note, ", "))
	}
	_ = w.Flush()
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
