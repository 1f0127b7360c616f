package wsmanager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

// TestEndingsByOutcomeAndCode: every way a served connection ends is
// reported by Connection.Ending with the code on the wire, and counted in
// Stats by outcome and code class: the peer's code when it closed, 1006
// when the transport failed, the transport's own code when it refused what
// the peer sent, the server's otherwise.
func TestEndingsByOutcomeAndCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		end   func(s *served)
		want  wsmanager.Ending
		class func(wsmanager.CodeCounts) uint64
	}{
		{"peer 4001", func(s *served) { s.peer.PeerCloseCode(4001, "my reason") }, wsmanager.Ending{Outcome: wsmanager.OutcomePeer, Code: 4001},
			func(c wsmanager.CodeCounts) uint64 { return c.Application }},
		{"peer 1000", func(s *served) { s.peer.PeerCloseCode(1000, "") }, wsmanager.Ending{Outcome: wsmanager.OutcomePeer, Code: 1000},
			func(c wsmanager.CodeCounts) uint64 { return c.Normal }},
		{"reset", func(s *served) { s.peer.Fail(errors.New("connection reset by peer")) }, wsmanager.Ending{Outcome: wsmanager.OutcomeFailed, Code: 1006},
			func(c wsmanager.CodeCounts) uint64 { return c.Abnormal }},
		{"too big", func(s *served) {
			s.peer.Fail(&wsmanager.SentCloseError{Code: 1009, Err: errors.New("message over the read limit")})
		}, wsmanager.Ending{Outcome: wsmanager.OutcomeFailed, Code: 1009},
			func(c wsmanager.CodeCounts) uint64 { return c.TooBig }},
		{"server close", func(s *served) { _ = s.c.Close(4002, "kicked") }, wsmanager.Ending{Outcome: wsmanager.OutcomeServer, Code: 4002, Reason: "kicked"},
			func(c wsmanager.CodeCounts) uint64 { return c.Application }},
		{"handler error", func(s *served) { s.peer.Push([]byte("fail")) }, wsmanager.Ending{Outcome: wsmanager.OutcomeServer, Code: 1011, Reason: "internal error"},
			func(c wsmanager.CodeCounts) uint64 { return c.Internal }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, wsmanager.Options{})
			s := h.serve(t, context.Background(), wsmanager.UserContext{UserID: "u"}, wsmanager.HandlerFunc(
				func(context.Context, *wsmanager.Connection, []byte) error { return errors.New("handler failed") }))
			s.ready(t)
			if _, ok := s.c.Ending(); ok {
				t.Fatal("Ending reported before the connection ended")
			}
			tt.end(s)
			_ = s.wait(t)
			got, ok := s.c.Ending()
			if !ok || got != tt.want {
				t.Errorf("Ending = %+v, %v; want %+v", got, ok, tt.want)
			}
			st := h.f.Stats()
			outcomes := map[wsmanager.Outcome]uint64{wsmanager.OutcomePeer: st.EndedByPeer, wsmanager.OutcomeServer: st.EndedByServer, wsmanager.OutcomeFailed: st.EndedFailed}
			if outcomes[tt.want.Outcome] != 1 || st.EndedByPeer+st.EndedByServer+st.EndedFailed != 1 {
				t.Errorf("ended by peer %d, server %d, failed %d; want 1 %v", st.EndedByPeer, st.EndedByServer, st.EndedFailed, tt.want.Outcome)
			}
			if tt.class(st.EndedByCode) != 1 {
				t.Errorf("EndedByCode %+v: %d not counted in its class %s", st.EndedByCode, tt.want.Code, wsmanager.CodeClass(tt.want.Code))
			}
		})
	}
}
