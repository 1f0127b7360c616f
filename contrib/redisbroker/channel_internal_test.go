package redisbroker

import "testing"

func TestValidPrefix(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"ssot": true, "chat.users": true, "chat:users": true, "a-b_c.d1": true, "ünï": true,
		"": false, "a*": false, "a?": false, "a[b]": false, `a\`: false, "a\nb": false, "a\x00": false,
	} {
		if got := validPrefix(p); got != want {
			t.Errorf("validPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}
