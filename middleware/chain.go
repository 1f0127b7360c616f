package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Middleware is one named layer of a Chain. It is a plain value; New and
// Append copy it, so changing one afterwards does not change a chain. The
// zero value has neither a name nor a Wrap and is ErrInvalid in a chain.
// Wrap is called once per Then; the handler it returns must be safe for
// concurrent use, as net/http serves requests concurrently.
type Middleware struct {
	// Name identifies the middleware in the chain; it must be unique and
	// non-empty.
	Name string
	// Wrap returns a handler that does the middleware's work around next.
	Wrap func(next http.Handler) http.Handler
	// After lists middlewares that must come earlier (outer) in the chain:
	// New and Append fail when one is missing or later.
	After []string
}

// Chain is an ordered list of middlewares: the first is the outermost, the
// one a request meets first. A Chain is an immutable value, safe for
// concurrent use; Append returns a new one. The zero value is an empty chain,
// whose Then returns the handler itself.
type Chain struct {
	ms []Middleware
}

// New returns a chain of ms, first outermost, after checking that every name
// is non-empty and unique (ErrInvalid, ErrDuplicate), every Wrap is non-nil
// (ErrInvalid), and every name in an After is in the chain (ErrMissingDependency)
// and earlier (ErrOrder). It reports every violation at once, each naming the
// middlewares involved.
func New(ms ...Middleware) (Chain, error) { return Chain{}.Append(ms...) }

// Append returns a new chain with ms added at the inner end, checked as New
// checks. c is unchanged.
func (c Chain) Append(ms ...Middleware) (Chain, error) {
	all := make([]Middleware, 0, len(c.ms)+len(ms))
	all = append(all, c.ms...)
	for _, m := range ms {
		m.After = slices.Clone(m.After)
		all = append(all, m)
	}
	if err := validate(all); err != nil {
		return c, err
	}
	return Chain{ms: all}, nil
}

func validate(ms []Middleware) error {
	var errs []error
	pos := make(map[string]int, len(ms))
	for i, m := range ms {
		switch {
		case m.Name == "":
			errs = append(errs, fmt.Errorf("%w: middleware %d has no name", ErrInvalid, i))
			continue
		case m.Wrap == nil:
			errs = append(errs, fmt.Errorf("%w: middleware %q has no Wrap function (was it built with invalid arguments?)", ErrInvalid, m.Name))
		}
		if _, dup := pos[m.Name]; dup {
			errs = append(errs, fmt.Errorf("%w: %q appears more than once", ErrDuplicate, m.Name))
			continue
		}
		pos[m.Name] = i
	}
	for i, m := range ms {
		for _, dep := range m.After {
			j, ok := pos[dep]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%w: %q must come after %q, which is not in the chain", ErrMissingDependency, m.Name, dep))
			case j >= i:
				errs = append(errs, fmt.Errorf("%w: %q must come after %q, but comes before it", ErrOrder, m.Name, dep))
			}
		}
	}
	return errors.Join(errs...)
}

// Names returns the middlewares' names, outermost first.
func (c Chain) Names() []string {
	names := make([]string, len(c.ms))
	for i, m := range c.ms {
		names[i] = m.Name
	}
	return names
}

// Len returns the number of middlewares in the chain.
func (c Chain) Len() int { return len(c.ms) }

// String returns the order, such as "recover → request_id → session → auth".
func (c Chain) String() string { return strings.Join(c.Names(), " → ") }

// Then returns h wrapped in the chain, the first middleware outermost. The
// handler is built once, here: serving a request goes straight through the
// middlewares' own handlers, with nothing of the chain's in between. A nil h,
// or a Wrap that returns nil, is ErrInvalid.
func (c Chain) Then(h http.Handler) (http.Handler, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalid)
	}
	for i := len(c.ms) - 1; i >= 0; i-- {
		h = c.ms[i].Wrap(h)
		if h == nil {
			return nil, fmt.Errorf("%w: middleware %q returned a nil handler", ErrInvalid, c.ms[i].Name)
		}
	}
	return h, nil
}

// ThenFunc is Then for a handler function.
func (c Chain) ThenFunc(f http.HandlerFunc) (http.Handler, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalid)
	}
	return c.Then(f)
}
