package wsmanager

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
)

// endsReceiver records what an sseConn delivers.
type endsReceiver struct {
	mu   sync.Mutex
	msgs []string
	ends []error
}

func (r *endsReceiver) Message(msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ends) > 0 {
		panic("Message after End")
	}
	r.msgs = append(r.msgs, string(msg))
}

func (r *endsReceiver) End(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends = append(r.ends, err)
}

// Reading that ends before the connection is served (an oversize POST
// right after the open event) reaches the receiver once it is given one:
// End exactly once, after what was posted before, nothing after.
func TestSSEEndBeforeReceive(t *testing.T) {
	boom := errors.New("over the limit")
	for _, tt := range []struct {
		name  string
		order func(s *sseConn, r Receiver)
	}{
		{"end, then Receive", func(s *sseConn, r Receiver) {
			s.end(boom)
			s.Receive(r)
		}},
		{"Receive, then end", func(s *sseConn, r Receiver) {
			s.Receive(r)
			s.end(boom)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSSEConn(httptest.NewRecorder(), "u", false)
			if err := s.deliver([]byte("early")); err != nil {
				t.Fatal(err)
			}
			r := &endsReceiver{}
			tt.order(s, r)
			s.end(errors.New("a second end"))
			if err := s.deliver([]byte("late")); !errors.Is(err, errSSEEnded) {
				t.Errorf("a POST after the end: %v, want errSSEEnded", err)
			}
			if len(r.ends) != 1 || r.ends[0] != boom {
				t.Errorf("End called with %v, want once with the first end's error", r.ends)
			}
			if want := map[string][]string{"end, then Receive": nil, "Receive, then end": {"early"}}[tt.name]; len(r.msgs) != len(want) {
				t.Errorf("messages %q, want %q", r.msgs, want)
			}
		})
	}
}
