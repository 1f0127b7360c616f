package safefmt_test

import (
	"fmt"
	"testing"

	"github.com/ssotkit/ssot/internal/safefmt"
)

type described struct{ secret string }

func (d described) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, "described{2 keys}") }

func TestFormatPrintsTheDescriptionForEveryVerb(t *testing.T) {
	t.Parallel()
	v := described{secret: "hunter2"}
	for verb, want := range map[string]string{
		"%v": "described{2 keys}", "%+v": "described{2 keys}", "%#v": "described{2 keys}",
		"%s": "described{2 keys}", "%x": "described{2 keys}", "%d": "described{2 keys}",
		"%q": `"described{2 keys}"`, "%20v": "described{2 keys}",
	} {
		if got := fmt.Sprintf(verb, v); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, want)
		}
	}
}

func TestSecretShowsOnlyWhetherItIsSet(t *testing.T) {
	t.Parallel()
	if got := safefmt.Secret(true); got != "[REDACTED]" {
		t.Errorf("Secret(true) = %q", got)
	}
	if got := safefmt.Secret(false); got != "none" {
		t.Errorf("Secret(false) = %q", got)
	}
}
