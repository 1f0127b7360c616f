package natsbroker

import "testing"

func TestSubjectRoundTrip(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"alice", "a.b", "*", ">", "a b", "ünïcødé", "a.*.>", "x\x00y", "../../etc"} {
		subj := subject("svc.users", user)
		if len(subj) <= len("svc.users.") || !validPrefix(subj) {
			t.Errorf("subject(%q) = %q is not a literal subject", user, subj)
		}
		got, ok := userFromSubject("svc.users", subj)
		if !ok || got != user {
			t.Errorf("round trip of %q = %q, %v", user, got, ok)
		}
	}
	for _, subj := range []string{"svc.users", "svc.users.", "other.YWxpY2U", "svc.users.YWxp.Y2U", "svc.users.!!"} {
		if u, ok := userFromSubject("svc.users", subj); ok {
			t.Errorf("userFromSubject(%q) = %q, want rejection", subj, u)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"ssot": true, "chat.users": true, "a-b_c.d1": true,
		"": false, ".a": false, "a.": false, "a..b": false, "a.*": false, "a.>": false, "a b": false, "a*b": false,
	} {
		if got := validPrefix(p); got != want {
			t.Errorf("validPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}
