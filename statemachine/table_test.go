package statemachine_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/statemachine"
)

type light uint8

const (
	red light = iota
	green
	yellow
	off
)

func TestNewTableRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edges map[uint8][]uint8
	}{
		{"nil", nil},
		{"no edges", map[uint8][]uint8{0: nil, 1: {}}},
		{"source out of range", map[uint8][]uint8{64: {0}}},
		{"target out of range", map[uint8][]uint8{0: {1, 200}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab, err := statemachine.NewTable(tt.edges)
			if !errors.Is(err, statemachine.ErrInvalidTable) || tab != nil {
				t.Fatalf("NewTable = %v, %v; want nil, ErrInvalidTable", tab, err)
			}
		})
	}
}

func TestMustNewTablePanicsOnInvalid(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("MustNewTable did not panic on an empty table")
		}
	}()
	statemachine.MustNewTable(map[light][]light{})
}

func TestTableQueries(t *testing.T) {
	t.Parallel()
	tab, err := statemachine.NewTable(map[light][]light{
		red:    {green, green},
		green:  {yellow},
		yellow: {red},
		63:     {off},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Allows(red, green) || tab.Allows(green, red) || tab.Allows(off, red) {
		t.Error("Allows does not follow the edges")
	}
	if tab.Allows(red, 64) || tab.Allows(200, red) {
		t.Error("Allows accepted a state out of range")
	}
	if diff := cmp.Diff([]light{green}, tab.Targets(red)); diff != "" {
		t.Errorf("Targets(red) (-want +got):\n%s", diff)
	}
	if got := tab.Targets(off); len(got) != 0 {
		t.Errorf("Targets(off) = %v, want none", got)
	}
	if diff := cmp.Diff([]light{red, green, yellow, off, 63}, tab.States()); diff != "" {
		t.Errorf("States (-want +got):\n%s", diff)
	}
	if !tab.Knows(off) || tab.Knows(10) || tab.Knows(64) {
		t.Error("Knows does not follow the edges")
	}
	got := tab.Targets(red)
	got[0] = yellow
	if !tab.Allows(red, green) || tab.Allows(red, yellow) {
		t.Error("mutating the Targets result changed the table")
	}
}
