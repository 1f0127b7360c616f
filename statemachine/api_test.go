package statemachine_test

import (
	"context"
	"time"

	sm "github.com/ssotkit/ssot/statemachine"
)

// The exported API that DESIGN.md fixes, checked by the compiler: code
// outside this repository compiles against these signatures, so a change to
// one breaks this file first.
var (
	_ func(map[light][]light) (*sm.Table[light], error)                          = sm.NewTable[light]
	_ func(*sm.Table[light], light, light) bool                                  = (*sm.Table[light]).Allows
	_ func(*sm.Table[light], light) []light                                      = (*sm.Table[light]).Targets
	_ func(*sm.Table[light], light, sm.Options) (*sm.Machine[light], error)      = sm.New[light]
	_ func(*sm.Machine[light]) light                                             = (*sm.Machine[light]).State
	_ func(*sm.Machine[light], light, string) error                              = (*sm.Machine[light]).Transition
	_ func(*sm.Machine[light], light, light, string) error                       = (*sm.Machine[light]).TransitionFrom
	_ func(*sm.Machine[light], context.Context, func(light) bool) (light, error) = (*sm.Machine[light]).Wait
	_ func(*sm.Machine[light], func(sm.Transition[light])) func()                = (*sm.Machine[light]).OnTransition
	_ func(*sm.Machine[light]) []sm.Transition[light]                            = (*sm.Machine[light]).History
	_ func(*sm.Machine[light]) sm.Stats                                          = (*sm.Machine[light]).Stats

	_       = sm.Transition[light]{From: red, To: green, At: time.Time{}, Reason: ""}
	_       = sm.Stats{Transitions: uint64(0), Rejected: uint64(0), Since: time.Time{}}
	_       = sm.Options{HistorySize: sm.NoHistory}
	_ error = &sm.TransitionError[light]{From: red, To: green}

	_ func(sm.ConnState) string          = sm.ConnState.String
	_ func(sm.ConnState) bool            = sm.ConnState.IsSetup
	_ func(sm.ConnState) bool            = sm.ConnState.IsOperational
	_ func(sm.ConnState) bool            = sm.ConnState.IsTerminal
	_ func() *sm.Table[sm.ConnState]     = sm.ConnTable
	_ func(sm.Options) (*sm.Conn, error) = sm.NewConn
	_ *sm.Machine[sm.ConnState]          = (*sm.Conn)(nil)
)

// The sentinels are constants, not variables anyone could reassign.
const (
	_ = sm.ErrInvalidTable
	_ = sm.ErrInvalidTransition
	_ = sm.ErrStale
	_ = sm.ErrInvalidOptions
)

// NoHistory is the constant -1: an array of length -NoHistory is [1]struct{}.
var _ [1]struct{} = [-sm.NoHistory]struct{}{}
