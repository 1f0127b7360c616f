package statemachine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ssotkit/ssot/statemachine"
)

// Door is a custom enum: any type whose underlying type is uint8.
type Door uint8

const (
	Closed Door = iota
	Open
	Locked
)

func (d Door) String() string { return [...]string{"closed", "open", "locked"}[d] }

func Example() {
	table, err := statemachine.NewTable(map[Door][]Door{
		Closed: {Open, Locked},
		Open:   {Closed},
		Locked: {Closed},
	})
	if err != nil {
		panic(err)
	}
	door, err := statemachine.New(table, Closed, statemachine.Options{})
	if err != nil {
		panic(err)
	}

	fmt.Println(door.Transition(Open, "guest arrives"))
	err = door.Transition(Locked, "lock an open door")
	fmt.Println(err, errors.Is(err, statemachine.ErrInvalidTransition))
	fmt.Println(door.State(), table.Targets(Closed))
	// Output:
	// <nil>
	// statemachine: invalid transition from open to locked true
	// open [open locked]
}

func ExampleMachine_TransitionFrom() {
	table := statemachine.MustNewTable(map[Door][]Door{Closed: {Open}, Open: {Closed}})
	door, _ := statemachine.New(table, Closed, statemachine.Options{HistorySize: statemachine.NoHistory})

	// Two goroutines that both saw the door closed race to open it: exactly
	// one wins, the other learns that its view was stale.
	fmt.Println(door.TransitionFrom(Closed, Open, "first"))
	err := door.TransitionFrom(Closed, Open, "second")
	fmt.Println(errors.Is(err, statemachine.ErrStale))
	// Output:
	// <nil>
	// true
}

func ExampleNewConn() {
	conn, err := statemachine.NewConn(statemachine.Options{})
	if err != nil {
		panic(err)
	}
	remove := conn.OnTransition(func(t statemachine.Transition[statemachine.ConnState]) {
		fmt.Printf("%v → %v (%s)\n", t.From, t.To, t.Reason)
	})
	defer remove()

	for _, s := range []statemachine.ConnState{
		statemachine.Accepted, statemachine.Authenticated,
		statemachine.ServicesReady, statemachine.ProcessingReady,
	} {
		if err := conn.Transition(s, "setup"); err != nil {
			panic(err)
		}
	}
	s, _ := conn.Wait(context.Background(), statemachine.ConnState.IsOperational)
	fmt.Println("ready:", s, s.IsOperational())
	// Output:
	// connecting → accepted (setup)
	// accepted → authenticated (setup)
	// authenticated → services_ready (setup)
	// services_ready → processing_ready (setup)
	// ready: processing_ready true
}
