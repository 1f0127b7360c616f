package middleware_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/middleware"
)

// recording returns a middleware that appends "name>" on the way in and
// "<name" on the way out.
func recording(name string, log *[]string, mu *sync.Mutex, after ...string) middleware.Middleware {
	return middleware.Middleware{Name: name, After: after, Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			*log = append(*log, name+">")
			mu.Unlock()
			next.ServeHTTP(w, r)
			mu.Lock()
			*log = append(*log, "<"+name)
			mu.Unlock()
		})
	}}
}

func TestChainOrderFirstIsOutermost(t *testing.T) {
	t.Parallel()
	var (
		log []string
		mu  sync.Mutex
	)
	c, err := middleware.New(recording("recover", &log, &mu), recording("session", &log, &mu), recording("auth", &log, &mu, "session"))
	if err != nil {
		t.Fatal(err)
	}
	c, err = c.Append(recording("metrics", &log, &mu, "recover"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Then(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		log = append(log, "handler")
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := []string{"recover>", "session>", "auth>", "metrics>", "handler", "<metrics", "<auth", "<session", "<recover"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("call order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"recover", "session", "auth", "metrics"}, c.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if got := c.String(); got != "recover → session → auth → metrics" {
		t.Errorf("String() = %q", got)
	}
}

func TestChainValidation(t *testing.T) {
	t.Parallel()
	var (
		log []string
		mu  sync.Mutex
	)
	m := func(name string, after ...string) middleware.Middleware { return recording(name, &log, &mu, after...) }
	tests := []struct {
		name     string
		ms       []middleware.Middleware
		want     []error
		mentions []string
	}{
		{"no name", []middleware.Middleware{m("")}, []error{middleware.ErrInvalid}, []string{"middleware 0"}},
		{"nil wrap", []middleware.Middleware{{Name: "auth"}}, []error{middleware.ErrInvalid}, []string{`"auth"`}},
		{"duplicate", []middleware.Middleware{m("a"), m("b"), m("a")}, []error{middleware.ErrDuplicate}, []string{`"a"`}},
		{"missing dependency", []middleware.Middleware{m("auth", "session")}, []error{middleware.ErrMissingDependency}, []string{`"auth"`, `"session"`}},
		{"wrong order", []middleware.Middleware{m("auth", "session"), m("session")}, []error{middleware.ErrOrder}, []string{`"auth"`, `"session"`}},
		{"after itself", []middleware.Middleware{m("auth", "auth")}, []error{middleware.ErrOrder}, []string{`"auth"`}},
		{"every problem at once", []middleware.Middleware{m("x", "nowhere"), m("y", "z"), m("z"), m("x")},
			[]error{middleware.ErrMissingDependency, middleware.ErrOrder, middleware.ErrDuplicate}, []string{`"nowhere"`, `"y"`, `"z"`, `"x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := middleware.New(tt.ms...)
			if err == nil {
				t.Fatal("New accepted an invalid chain")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			for _, s := range tt.mentions {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %q does not name %s", err, s)
				}
			}
		})
	}
}

func TestAppendLeavesTheChainUnchanged(t *testing.T) {
	t.Parallel()
	var (
		log []string
		mu  sync.Mutex
	)
	base, err := middleware.New(recording("a", &log, &mu))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.Append(recording("a", &log, &mu)); !errors.Is(err, middleware.ErrDuplicate) {
		t.Fatalf("Append of a duplicate = %v", err)
	}
	after := []string{"a"}
	longer, err := base.Append(recording("b", &log, &mu, after...))
	if err != nil {
		t.Fatal(err)
	}
	after[0] = "changed" // the chain keeps its own copy
	if _, err := longer.Append(recording("c", &log, &mu)); err != nil {
		t.Fatalf("chain changed through the caller's After slice: %v", err)
	}
	if diff := cmp.Diff([]string{"a"}, base.Names()); diff != "" {
		t.Errorf("base changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, longer.Names()); diff != "" {
		t.Errorf("longer (-want +got):\n%s", diff)
	}
}

func TestThenRejectsNil(t *testing.T) {
	t.Parallel()
	var c middleware.Chain
	if _, err := c.Then(nil); !errors.Is(err, middleware.ErrInvalid) {
		t.Errorf("Then(nil) = %v", err)
	}
	bad, err := middleware.New(middleware.Middleware{Name: "broken", Wrap: func(http.Handler) http.Handler { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Then(http.NotFoundHandler()); !errors.Is(err, middleware.ErrInvalid) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("Then with a nil-returning Wrap = %v", err)
	}
	h := http.NotFoundHandler()
	got, err := c.Then(h)
	if err != nil || got == nil {
		t.Errorf("empty chain Then = %v, %v", got, err)
	}
}

func TestChainAddsNoAllocations(t *testing.T) {
	var ms []middleware.Middleware
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ms = append(ms, middleware.Middleware{Name: n, Wrap: noop})
	}
	h := build(t, final, ms...)
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	if allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); allocs != 0 {
		t.Errorf("serving through a 5-middleware chain allocated %v times per request", allocs)
	}
}
