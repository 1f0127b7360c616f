package wsmanager

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestThreadsAddAndRemove(t *testing.T) {
	t.Parallel()
	manager := func(thread string) *Manager { return &Manager{uc: UserContext{UserID: "u", ThreadID: thread}} }
	a, b, c := manager("a"), manager(""), manager("c")
	threadsOf := func(ts threads) []string {
		var got []string
		for m := range ts.all {
			got = append(got, m.uc.ThreadID)
		}
		slices.Sort(got)
		return got
	}
	check := func(step string, ts threads, want ...*Manager) {
		t.Helper()
		var wantIDs []string
		for _, m := range want {
			wantIDs = append(wantIDs, m.uc.ThreadID)
			if got := ts.get(m.uc.ThreadID); got != m {
				t.Errorf("%s: get(%q) = %p, want %p", step, m.uc.ThreadID, got, m)
			}
		}
		slices.Sort(wantIDs)
		if diff := cmp.Diff(wantIDs, threadsOf(ts)); diff != "" {
			t.Errorf("%s: threads (-want +got):\n%s", step, diff)
		}
		if ts.len() != len(want) {
			t.Errorf("%s: len = %d, want %d", step, ts.len(), len(want))
		}
		if ts.get("absent") != nil {
			t.Errorf("%s: get of an absent thread found a Manager", step)
		}
	}
	var ts threads
	check("empty", ts)
	ts = ts.with(a)
	check("one", ts, a)
	if ts.more != nil {
		t.Errorf("one thread is kept in a map")
	}
	ts = ts.with(b).with(c)
	check("three", ts, a, b, c)
	ts = ts.without("a")
	check("a removed", ts, b, c)
	ts = ts.without("c")
	check("c removed", ts, b)
	if ts.more != nil {
		t.Errorf("a user left with one thread keeps its map")
	}
	ts = ts.without("absent")
	check("absent removed", ts, b)
	ts = ts.without("")
	check("all removed", ts)
}
