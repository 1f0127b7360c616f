package wsmanager

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func contents(q *queue) []string {
	var out []string
	for range q.len() {
		m := q.pop()
		out = append(out, string(m))
		q.push(m)
	}
	return out
}

func TestQueueBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxLen      int
		maxBytes    int
		dropOldest  bool
		offers      []string
		wantRefused []string
		wantDropped int
		want        []string
	}{
		{"by count", 3, 100, false, []string{"a", "b", "c", "d"}, []string{"d"}, 0, []string{"a", "b", "c"}},
		{"by bytes", 10, 2*slotCost + 4, false, []string{"aa", "bb", "c"}, []string{"c"}, 0, []string{"aa", "bb"}},
		{"a slot costs bytes", 10, 3 * slotCost, false, []string{"", "", "", ""}, []string{""}, 0, []string{"", "", ""}},
		{"a large first message fits", 10, slotCost + 4, false, []string{"0123456789", "x"}, []string{"x"}, 0, []string{"0123456789"}},
		{"drop oldest by count", 3, 100, true, []string{"a", "b", "c", "d", "e"}, nil, 2, []string{"c", "d", "e"}},
		{"drop oldest by bytes", 10, 2*slotCost + 4, true, []string{"aa", "bb", "ccc"}, nil, 2, []string{"ccc"}},
		{"drop oldest keeps a large newest", 10, 2*slotCost + 4, true, []string{"a", "b", "0123456789"}, nil, 2, []string{"0123456789"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newQueue(tt.maxLen, tt.maxBytes)
			var refused []string
			dropped := 0
			for _, m := range tt.offers {
				ok, d := q.offer([]byte(m), tt.dropOldest)
				if !ok {
					refused = append(refused, m)
				}
				dropped += d
			}
			if diff := cmp.Diff(tt.wantRefused, refused); diff != "" {
				t.Errorf("refused (-want +got):\n%s", diff)
			}
			if dropped != tt.wantDropped {
				t.Errorf("dropped %d, want %d", dropped, tt.wantDropped)
			}
			if diff := cmp.Diff(tt.want, contents(&q)); diff != "" {
				t.Errorf("queue (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueueFreesPerMessage: each message taken out frees its slot, so a
// queue that has handed some over accepts that many more.
func TestQueueFreesPerMessage(t *testing.T) {
	t.Parallel()
	q := newQueue(4, 1<<20)
	for i := range 4 {
		if ok, _ := q.offer(fmt.Appendf(nil, "m%d", i), false); !ok {
			t.Fatalf("m%d refused", i)
		}
	}
	if ok, _ := q.offer([]byte("m4"), false); ok {
		t.Fatal("a full queue accepted m4")
	}
	if got := string(q.pop()); got != "m0" {
		t.Fatalf("pop = %q, want m0", got)
	}
	if ok, _ := q.offer([]byte("m4"), false); !ok {
		t.Fatal("one slot freed, m4 refused")
	}
	got := q.popN(nil, 10)
	if diff := cmp.Diff([][]byte{[]byte("m1"), []byte("m2"), []byte("m3"), []byte("m4")}, got); diff != "" {
		t.Errorf("popN (-want +got):\n%s", diff)
	}
	if q.len() != 0 || q.bytes != 0 {
		t.Errorf("after popN: len %d, bytes %d; want 0, 0", q.len(), q.bytes)
	}
}

// TestQueueExtra: messages pushed beyond the bounds (a replay) take no
// room from those offered after them, and leave none behind once taken.
func TestQueueExtra(t *testing.T) {
	t.Parallel()
	q := newQueue(2, 2*slotCost+10)
	for range 5 {
		q.pushExtra([]byte("replayed"))
	}
	for _, m := range []string{"a", "b"} {
		if ok, _ := q.offer([]byte(m), false); !ok {
			t.Fatalf("%s refused behind a replay", m)
		}
	}
	if ok, _ := q.offer([]byte("c"), false); ok {
		t.Fatal("the live bound did not hold behind a replay")
	}
	for range 5 {
		q.pop()
	}
	if q.extra != 0 || q.extraBytes != 0 || q.len() != 2 {
		t.Errorf("after the replay: extra %d, %d bytes, len %d", q.extra, q.extraBytes, q.len())
	}
	if ok, _ := q.offer([]byte("c"), false); ok {
		t.Error("the bound grew once the replay was taken")
	}
}

func TestQueueShrinks(t *testing.T) {
	t.Parallel()
	q := newQueue(1000, 1<<20)
	for range 100 {
		q.push([]byte("x"))
	}
	q.shrink()
	if len(q.buf) < 100 {
		t.Fatal("shrink dropped a non-empty ring")
	}
	if n := q.clear(); n != 100 {
		t.Errorf("clear = %d, want 100", n)
	}
	q.shrink()
	if len(q.buf) > idleQueueBuf {
		t.Errorf("an empty queue keeps a ring of %d", len(q.buf))
	}
}

// FuzzQueue runs random operations against a queue and a plain slice that
// models it: order, bounds, drops and counts always agree.
func FuzzQueue(f *testing.F) {
	f.Add(uint8(4), uint8(10), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0x81, 0x40})
	f.Add(uint8(1), uint8(1), []byte{5, 0x80, 5, 5, 0xc0, 3})
	f.Fuzz(func(t *testing.T, maxLen, maxBytes uint8, ops []byte) {
		limLen, limBytes := int(maxLen%16)+1, int(maxBytes)+1
		q := newQueue(limLen, limBytes)
		var model [][]byte
		size := func() int {
			n := 0
			for _, m := range model {
				n += cost(len(m))
			}
			return n
		}
		for i, op := range ops {
			switch {
			case op&0xc0 == 0x80: // pop
				got := q.pop()
				var want []byte
				if len(model) > 0 {
					want, model = model[0], model[1:]
				}
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: pop %q, want %q", i, got, want)
				}
			case op&0xc0 == 0xc0: // popN
				got := q.popN(nil, int(op&0x3f))
				k := min(int(op&0x3f), len(model))
				if !slices.EqualFunc(model[:k], got, bytes.Equal) {
					t.Fatalf("op %d: popN = %q, want %q", i, got, model[:k])
				}
				model = model[k:]
			default: // offer a message of op&0x3f bytes; bit 6 picks DropOldest
				msg := fmt.Appendf(make([]byte, 0, op&0x3f), "%0*d", int(op&0x3f), i)[:op&0x3f]
				dropOldest := op&0x40 != 0
				wantDropped := 0
				fits := func() bool { return len(model) < limLen && (len(model) == 0 || size()+cost(len(msg)) <= limBytes) }
				for !fits() && dropOldest {
					model = model[1:]
					wantDropped++
				}
				wantOK := fits()
				if wantOK {
					model = append(model, msg)
				}
				ok, dropped := q.offer(msg, dropOldest)
				if ok != wantOK || dropped != wantDropped {
					t.Fatalf("op %d: offer = %v, %d; want %v, %d", i, ok, dropped, wantOK, wantDropped)
				}
			}
			if q.len() != len(model) || q.bytes != size() {
				t.Fatalf("op %d: len %d bytes %d, want %d %d", i, q.len(), q.bytes, len(model), size())
			}
		}
		if got := q.popN(nil, len(model)); !slices.EqualFunc(model, got, bytes.Equal) {
			t.Fatalf("final contents %q, want %q", got, model)
		}
	})
}

// peek returns the waiting messages, oldest first, leaving the queue as it is.
func peek(q *queue) []string {
	out := make([]string, 0, q.n)
	for i := range q.n {
		out = append(out, string(q.buf[(q.head+i)&(len(q.buf)-1)]))
	}
	return out
}

// TestQueueDropOldestBehindExtra: under DropOldest, making room for a new
// message behind a replay discards the oldest message that takes room, one
// live message, and keeps the replay, whose messages take none.
func TestQueueDropOldestBehindExtra(t *testing.T) {
	t.Parallel()
	q := newQueue(2, 100)
	for _, m := range []string{"r1", "r2", "r3"} {
		q.pushExtra([]byte(m))
	}
	for _, m := range []string{"a", "b", "c"} {
		if ok, _ := q.offer([]byte(m), true); !ok {
			t.Fatalf("%s refused under DropOldest", m)
		}
	}
	if diff := cmp.Diff([]string{"r1", "r2", "r3", "b", "c"}, peek(&q)); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
	if want := 3 * cost(2); q.extra != 3 || q.extraBytes != want || q.bytes != want+2*cost(1) {
		t.Errorf("extra %d (%d bytes), %d bytes in all; want 3 (%d), %d", q.extra, q.extraBytes, q.bytes, want, want+2*cost(1))
	}
}

// TestQueuePushExtraAfterLive: a replay pushed after a live message was
// offered (a Broadcast reached the connection first) still goes in front of
// it, and the bounds of what is offered later stay as they were.
func TestQueuePushExtraAfterLive(t *testing.T) {
	t.Parallel()
	q := newQueue(2, slotCost+10)
	if ok, _ := q.offer([]byte("live-long"), false); !ok {
		t.Fatal("first offer refused")
	}
	q.pushExtra([]byte("r1"))
	q.pushExtra([]byte("r2"))
	if diff := cmp.Diff([]string{"r1", "r2", "live-long"}, peek(&q)); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
	for range 3 {
		q.pop()
	}
	if q.extra != 0 || q.extraBytes != 0 {
		t.Fatalf("empty queue with extra %d, %d bytes", q.extra, q.extraBytes)
	}
	for _, m := range []string{"0123456789", "x"} {
		ok, _ := q.offer([]byte(m), false)
		if want := m != "x"; ok != want {
			t.Errorf("offer %q = %v, want %v: the byte bound moved", m, ok, want)
		}
	}
}
