package natsbroker

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzParseRepublished: whatever a publisher on the live subjects puts in
// a message's subject and headers, parseRepublished accepts it only as
// one user's message, whose stream subject and live subject are both that
// user's, with a sequence after the one it names as its user's previous.
func FuzzParseRepublished(f *testing.F) {
	const stream, prefix, live = "test_users", "test.users.log", "test.users.live"
	f.Add(subject(live, "alice"), stream, subject(prefix, "alice"), "7", "3")
	f.Add(subject(live, "alice"), stream, subject(prefix, "bob"), "7", "3")
	f.Add(subject(live, "a.*>"), "other", subject(prefix, "a.*>"), "7", "0")
	f.Add("test.users.live.!!", stream, "test.users.log.!!", "1", "0")
	f.Add(subject(live, "alice"), stream, subject(prefix, "alice"), "3", "7")
	f.Fuzz(func(t *testing.T, subj, hStream, hSubject, hSeq, hPrev string) {
		h := nats.Header{hdrStream: {hStream}, hdrSubject: {hSubject}, hdrSeq: {hSeq}, hdrPrevSeq: {hPrev}}
		r, ok := parseRepublished(stream, prefix, live, subj, h)
		if !ok {
			return
		}
		if subj != subject(live, r.userID) || hSubject != subject(prefix, r.userID) || hStream != stream {
			t.Errorf("accepted %q from %q of stream %q as %q's", subj, hSubject, hStream, r.userID)
		}
		if r.seq == 0 || r.prev >= r.seq {
			t.Errorf("accepted sequence %d after %d", r.seq, r.prev)
		}
	})
}

func TestParseRepublished(t *testing.T) {
	t.Parallel()
	const stream, prefix, live = "test_users", "test.users.log", "test.users.live"
	good := func() nats.Header {
		return nats.Header{hdrStream: {stream}, hdrSubject: {subject(prefix, "a.*>")}, hdrSeq: {"9"}, hdrPrevSeq: {"4"}}
	}
	if r, ok := parseRepublished(stream, prefix, live, subject(live, "a.*>"), good()); !ok || r != (republished{"a.*>", 9, 4}) {
		t.Errorf("JetStream's republishing: %+v, %v", r, ok)
	}
	for name, mutate := range map[string]func(h nats.Header){
		"another stream":          func(h nats.Header) { h.Set(hdrStream, "other") },
		"another user's subject":  func(h nats.Header) { h.Set(hdrSubject, subject(prefix, "bob")) },
		"no sequence":             func(h nats.Header) { h.Del(hdrSeq) },
		"no previous sequence":    func(h nats.Header) { h.Del(hdrPrevSeq) },
		"previous after sequence": func(h nats.Header) { h.Set(hdrPrevSeq, "10") },
		"sequence zero":           func(h nats.Header) { h.Set(hdrSeq, "0"); h.Set(hdrPrevSeq, "0") },
	} {
		h := good()
		mutate(h)
		if r, ok := parseRepublished(stream, prefix, live, subject(live, "a.*>"), h); ok {
			t.Errorf("%s: accepted as %+v", name, r)
		}
	}
}
