package wsadapt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code int
		want bool
	}{
		{"normal", 1000, true},
		{"going away", 1001, true},
		{"policy violation", 1008, true},
		{"try again later", 1013, true},
		{"bad gateway", 1014, true},
		{"reserved 1004", 1004, false},
		{"no status", 1005, false},
		{"abnormal", 1006, false},
		{"tls", 1015, false},
		{"below range", 999, false},
		{"unassigned 2000", 2000, false},
		{"library range", 3000, true},
		{"private range top", 4999, true},
		{"above range", 5000, false},
		{"negative", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidCode(tt.code); got != tt.want {
				t.Errorf("ValidCode(%d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		want   string
	}{
		{"short", "bye", "bye"},
		{"empty", "", ""},
		{"exactly max", strings.Repeat("a", MaxReason), strings.Repeat("a", MaxReason)},
		{"one over", strings.Repeat("a", MaxReason+1), strings.Repeat("a", MaxReason)},
		// 122 ASCII bytes then a 3-byte rune straddling the limit: the rune goes.
		{"rune straddles limit", strings.Repeat("a", MaxReason-1) + "€", strings.Repeat("a", MaxReason-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Reason(tt.reason)
			if got != tt.want {
				t.Errorf("Reason() = %q, want %q", got, tt.want)
			}
			if len(got) > MaxReason || !utf8.ValidString(got) {
				t.Errorf("Reason() = %q: %d bytes, valid UTF-8 %v", got, len(got), utf8.ValidString(got))
			}
		})
	}
}

func FuzzReason(f *testing.F) {
	f.Add("bye")
	f.Add(strings.Repeat("€", 60))
	f.Add(strings.Repeat("a", 200))
	f.Fuzz(func(t *testing.T, reason string) {
		if !utf8.ValidString(reason) {
			return
		}
		got := Reason(reason)
		if len(got) > MaxReason {
			t.Fatalf("Reason() is %d bytes, longer than %d", len(got), MaxReason)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Reason() = %q is not valid UTF-8", got)
		}
		if !strings.HasPrefix(reason, got) {
			t.Fatalf("Reason() = %q is not a prefix of the input", got)
		}
		if len(reason) <= MaxReason && got != reason {
			t.Fatalf("Reason() changed a short reason: %q", got)
		}
	})
}
