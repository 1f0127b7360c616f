package env_test

import (
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssotkit/ssot/env"
)

type (
	namedString string
	namedInt    int16
	namedList   []string
)

// decodeOne decodes raw into a one-field struct of type T.
func decodeOne[T any](raw string) func() (any, error) {
	return func() (any, error) {
		var c struct {
			V T `env:"V"`
		}
		err := env.Decode(env.Map(map[string]string{"V": raw}), &c)
		return c.V, err
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// valueCmp compares the kinds cmp cannot see into.
var valueCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b url.URL) bool { return a.String() == b.String() }),
}

func TestDecodeKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func() (any, error)
		want   any
	}{
		{"string", decodeOne[string]("hello world"), "hello world"},
		{"empty string", decodeOne[string](""), ""},
		{"named string", decodeOne[namedString]("x"), namedString("x")},
		{"bool true", decodeOne[bool]("true"), true},
		{"bool 1", decodeOne[bool]("1"), true},
		{"bool FALSE", decodeOne[bool]("FALSE"), false},
		{"int", decodeOne[int]("-42"), -42},
		{"int8 max", decodeOne[int8]("127"), int8(127)},
		{"int16", decodeOne[int16]("-32768"), int16(-32768)},
		{"int32", decodeOne[int32]("2147483647"), int32(2147483647)},
		{"int64", decodeOne[int64]("9223372036854775807"), int64(math.MaxInt64)},
		{"named int", decodeOne[namedInt]("7"), namedInt(7)},
		{"int is base 10, a leading zero is not octal", decodeOne[int]("010"), 10},
		{"uint", decodeOne[uint]("42"), uint(42)},
		{"uint8", decodeOne[uint8]("255"), uint8(255)},
		{"uint16", decodeOne[uint16]("65535"), uint16(65535)},
		{"uint32", decodeOne[uint32]("4294967295"), uint32(4294967295)},
		{"uint64", decodeOne[uint64]("18446744073709551615"), uint64(math.MaxUint64)},
		{"float32", decodeOne[float32]("0.5"), float32(0.5)},
		{"float64", decodeOne[float64]("-1.25e3"), -1250.0},
		{"duration", decodeOne[time.Duration]("1h2m3.5s"), time.Hour + 2*time.Minute + 3500*time.Millisecond},
		{"duration zero", decodeOne[time.Duration]("0"), time.Duration(0)},
		{"negative duration", decodeOne[time.Duration]("-5s"), -5 * time.Second},
		{"string slice", decodeOne[[]string]("a, b ,c"), []string{"a", "b", "c"}},
		{"string slice of one", decodeOne[[]string]("only"), []string{"only"}},
		{"string slice keeps empty elements", decodeOne[[]string]("a,,b"), []string{"a", "", "b"}},
		{"empty string slice is empty, not nil", decodeOne[[]string](""), []string{}},
		{"named string slice", decodeOne[namedList]("x,y"), namedList{"x", "y"}},
		{"int slice", decodeOne[[]int]("1, 2,3"), []int{1, 2, 3}},
		{"duration slice", decodeOne[[]time.Duration]("1s,2m"), []time.Duration{time.Second, 2 * time.Minute}},
		{"bytes are the value", decodeOne[[]byte]("a,b"), []byte("a,b")},
		{"URL pointer", decodeOne[*url.URL]("postgres://db:5432/app?sslmode=require"), mustURL("postgres://db:5432/app?sslmode=require")},
		{"URL value", decodeOne[url.URL]("https://example.com/x"), *mustURL("https://example.com/x")},
		{"pointer to int", decodeOne[*int]("3"), ptr(3)},
		{"pointer to empty string", decodeOne[*string](""), ptr("")},
		{"pointer to string slice", decodeOne[*[]string]("a, b"), ptr([]string{"a", "b"})},
		{"pointer to empty string slice", decodeOne[*[]string](""), ptr([]string{})},
		{"TextUnmarshaler: env.Name", decodeOne[env.Name]("prod"), env.Production},
		{"TextUnmarshaler: netip.Addr", decodeOne[netip.Addr]("192.0.2.1"), netip.MustParseAddr("192.0.2.1")},
		{"TextUnmarshaler: slog.Level", decodeOne[slog.Level]("warn"), slog.LevelWarn},
		{"TextUnmarshaler pointer", decodeOne[*netip.Addr]("::1"), ptr(netip.MustParseAddr("::1"))},
		{"TextUnmarshaler slice", decodeOne[[]netip.Addr]("10.0.0.1, 10.0.0.2"), []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.decode()
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, valueCmp); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeInvalidValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func() (any, error)
		reason string
	}{
		{"bool word", decodeOne[bool]("yes"), "not a boolean"},
		{"empty bool", decodeOne[bool](""), "not a boolean"},
		{"int word", decodeOne[int]("ten"), "not an integer"},
		{"empty int", decodeOne[int](""), "not an integer"},
		{"int with unit", decodeOne[int]("10k"), "not an integer"},
		{"hex int", decodeOne[int]("0x10"), "not an integer"},
		{"int8 overflow", decodeOne[int8]("128"), "out of range for int8"},
		{"int64 overflow", decodeOne[int64]("9223372036854775808"), "out of range for int64"},
		{"named int overflow", decodeOne[namedInt]("40000"), "out of range for env_test.namedInt"},
		{"negative uint", decodeOne[uint]("-1"), "not an unsigned integer"},
		{"uint8 overflow", decodeOne[uint8]("256"), "out of range for uint8"},
		{"empty uint", decodeOne[uint64](""), "not an unsigned integer"},
		{"float word", decodeOne[float64]("half"), "not a number"},
		{"empty float", decodeOne[float64](""), "not a number"},
		{"NaN", decodeOne[float64]("NaN"), "not a finite number"},
		{"infinity", decodeOne[float32]("+Inf"), "not a finite number"},
		{"float32 overflow", decodeOne[float32]("1e39"), "out of range for float32"},
		{"duration without unit", decodeOne[time.Duration]("30"), "not a duration"},
		{"empty duration", decodeOne[time.Duration](""), "not a duration"},
		{"duration word", decodeOne[time.Duration]("soon"), "not a duration"},
		{"relative URL", decodeOne[*url.URL]("just/a/path"), "not an absolute URL"},
		{"empty URL", decodeOne[url.URL](""), "not an absolute URL"},
		{"broken URL", decodeOne[*url.URL]("http://[::1"), "not an absolute URL"},
		{"list element", decodeOne[[]int]("1,two,3"), "element 2 of the list: not an integer"},
		{"TextUnmarshaler refuses", decodeOne[netip.Addr]("300.1.1.1"), "rejected by netip.Addr.UnmarshalText"},
		{"env.Name refuses", decodeOne[env.Name]("moon"), "rejected by env.Name.UnmarshalText"},
		{"pointer element refuses", decodeOne[*int]("x"), "not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.decode()
			var fe *env.FieldError
			if !errors.Is(err, env.ErrInvalidValue) || !errors.As(err, &fe) {
				t.Fatalf("Decode = %v, want a *FieldError wrapping ErrInvalidValue", err)
			}
			if fe.Key != "V" || fe.Field != "V" {
				t.Errorf("FieldError names key %q field %q, want V and V", fe.Key, fe.Field)
			}
			if !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", fe.Reason, tt.reason)
			}
		})
	}
}

// TestDecodeInvalidLeavesFieldAndPointerAlone checks that a value that does
// not parse is not half-applied.
func TestDecodeInvalidLeavesFieldAndPointerAlone(t *testing.T) {
	t.Parallel()
	c := struct {
		N   int      `env:"N"`
		P   *int     `env:"P"`
		L   []int    `env:"L"`
		URL *url.URL `env:"URL"`
	}{N: 7, L: []int{9}}
	err := env.Decode(env.Map(map[string]string{"N": "x", "P": "x", "L": "1,x", "URL": "rel"}), &c)
	if !errors.Is(err, env.ErrInvalidValue) {
		t.Fatalf("Decode = %v, want ErrInvalidValue", err)
	}
	if c.N != 7 || c.P != nil || !cmp.Equal(c.L, []int{9}) || c.URL != nil {
		t.Errorf("fields changed by invalid values: N=%d P=%v L=%v URL=%v", c.N, c.P, c.L, c.URL)
	}
}
