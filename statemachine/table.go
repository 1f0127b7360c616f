package statemachine

import (
	"fmt"
	"math/bits"
)

// Enum is the constraint on state types: any type whose underlying type is
// uint8, typically an iota enum. A Table accepts states 0 to 63.
type Enum interface{ ~uint8 }

// MaxStates is the number of distinct states a Table can hold: states are
// bit positions in a uint64.
const MaxStates = 64

// Table is an immutable transition table: for each state, the bitmask of the
// states it may move to. Checking a transition is one shift and one AND.
//
// A Table is safe for concurrent use and may be shared by any number of
// machines. The zero value allows nothing and knows no state; build tables
// with NewTable.
type Table[S Enum] struct {
	allow [MaxStates]uint64 // allow[from] has bit to set when from→to is allowed
	known uint64            // every state named in the table, as source or target
}

// NewTable builds a table from an adjacency list: edges[from] lists the states
// from may move to. A state that only appears as a target is known to the
// table and has no way out. Listing a target twice is harmless.
//
// It returns an error wrapping ErrInvalidTable when a state is 64 or more or
// when the table has no edges.
func NewTable[S Enum](edges map[S][]S) (*Table[S], error) {
	t := &Table[S]{}
	n := 0
	for from, tos := range edges {
		if uint8(from) >= MaxStates {
			return nil, fmt.Errorf("%w: state %d is out of range (at most %d states)", ErrInvalidTable, uint8(from), MaxStates)
		}
		t.known |= 1 << uint8(from)
		for _, to := range tos {
			if uint8(to) >= MaxStates {
				return nil, fmt.Errorf("%w: state %d is out of range (at most %d states)", ErrInvalidTable, uint8(to), MaxStates)
			}
			t.allow[from] |= 1 << uint8(to)
			t.known |= 1 << uint8(to)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no transitions", ErrInvalidTable)
	}
	return t, nil
}

// MustNewTable is like NewTable but panics on error. It is meant for tables
// written out in code, where an error is a programming mistake.
func MustNewTable[S Enum](edges map[S][]S) *Table[S] {
	t, err := NewTable(edges)
	if err != nil {
		panic(err)
	}
	return t
}

// Allows reports whether the table allows the transition from → to.
func (t *Table[S]) Allows(from, to S) bool {
	if uint8(from) >= MaxStates || uint8(to) >= MaxStates {
		return false
	}
	return t.allow[from]&(1<<uint8(to)) != 0
}

// Targets returns the states from may move to, in ascending order, as a new
// slice.
func (t *Table[S]) Targets(from S) []S {
	if uint8(from) >= MaxStates {
		return nil
	}
	return expand[S](t.allow[from])
}

// States returns every state the table names, as a source or a target, in
// ascending order, as a new slice.
func (t *Table[S]) States() []S { return expand[S](t.known) }

// Knows reports whether the table names s, as a source or a target.
func (t *Table[S]) Knows(s S) bool {
	return uint8(s) < MaxStates && t.known&(1<<uint8(s)) != 0
}

func expand[S Enum](mask uint64) []S {
	out := make([]S, 0, bits.OnesCount64(mask))
	for mask != 0 {
		i := bits.TrailingZeros64(mask)
		out = append(out, S(i))
		mask &^= 1 << i
	}
	return out
}
