package natsbroker

import "testing"

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

func TestSubjectIsLiteral(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"alice", "a.b", "*", ">", "a b", "a.*.>", "x\x00y"} {
		if subj := subject("svc.users", user); !validPrefix(subj) {
			t.Errorf("subject(%q) = %q is not a literal subject", user, subj)
		}
	}
}
