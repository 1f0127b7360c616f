package brokerkit_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

func TestTopicRoundTrip(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"alice", "a.b", "*", ">", "a b", "ünïcødé", "a.*.>", "x\x00y", "../../etc", "[a-z]?\\", strings.Repeat("u", brokerkit.MaxUserIDLen)} {
		topic := brokerkit.Topic("svc.users", user)
		token := strings.TrimPrefix(topic, "svc.users.")
		if token == "" || strings.ContainsAny(token, ".*>?[]\\ \t\r\n\x00") {
			t.Errorf("Topic(%q) = %q: the user's token holds a separator, wildcard or glob character", user, topic)
		}
		got, ok := brokerkit.UserFromTopic("svc.users", topic)
		if !ok || got != user {
			t.Errorf("round trip of %q = %q, %v", user, got, ok)
		}
	}
	for _, topic := range []string{"svc.users", "svc.users.", "other.YWxpY2U", "svc.users.YWxp.Y2U", "svc.users.!!", "svc.usersYWxpY2U"} {
		if u, ok := brokerkit.UserFromTopic("svc.users", topic); ok {
			t.Errorf("UserFromTopic(%q) = %q, want rejection", topic, u)
		}
	}
}

func TestValidUser(t *testing.T) {
	t.Parallel()
	for user, want := range map[string]bool{
		"": false, "a": true, strings.Repeat("u", brokerkit.MaxUserIDLen): true, strings.Repeat("u", brokerkit.MaxUserIDLen+1): false,
	} {
		if got := brokerkit.ValidUser(user); got != want {
			t.Errorf("ValidUser(%d bytes) = %v, want %v", len(user), got, want)
		}
	}
}

func TestMalformedURLErrorHidesTheURL(t *testing.T) {
	t.Parallel()
	raw := strings.Join([]string{"redis://user:s3cret@", "%zz"}, "") // a malformed URL holding a password
	_, perr := url.Parse(raw)
	err := error(brokerkit.MalformedURLError{Pkg: "xbroker", Err: perr})
	if got := err.Error(); got != "xbroker: connect: malformed URL" {
		t.Errorf("Error() = %q", got)
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) || uerr != perr {
		t.Errorf("the parse error is not reachable: %v", err)
	}
}
