package wsmanager_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ssotkit/ssot/wsmanager"
)

func TestUserContextValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 257)
	tests := []struct {
		name string
		uc   wsmanager.UserContext
		ok   bool
	}{
		{"user only", wsmanager.UserContext{UserID: "u"}, true},
		{"user and thread", wsmanager.UserContext{UserID: "alice@example.com", ThreadID: "chat-1"}, true},
		{"unicode", wsmanager.UserContext{UserID: "ユーザー", ThreadID: "スレッド"}, true},
		{"256 bytes", wsmanager.UserContext{UserID: long[:256], ThreadID: long[:256]}, true},
		{"request id is free-form", wsmanager.UserContext{UserID: "u", RequestID: "\x00" + long}, true},
		{"empty user", wsmanager.UserContext{ThreadID: "t"}, false},
		{"long user", wsmanager.UserContext{UserID: long}, false},
		{"long thread", wsmanager.UserContext{UserID: "u", ThreadID: long}, false},
		{"invalid UTF-8", wsmanager.UserContext{UserID: "u\xff"}, false},
		{"control character", wsmanager.UserContext{UserID: "u\nv"}, false},
		{"control character in thread", wsmanager.UserContext{UserID: "u", ThreadID: "t\x7f"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.uc.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, wsmanager.ErrInvalidUser) {
				t.Errorf("Validate = %v, want ErrInvalidUser", err)
			}
		})
	}
}

func validID(s string, minLen int) bool {
	if len(s) < minLen || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func FuzzUserContextValidate(f *testing.F) {
	f.Add("u", "")
	f.Add("alice", "thread-1")
	f.Add("", "t")
	f.Add("u\xff", "t")
	f.Add("u", "t\n")
	f.Add(strings.Repeat("é", 129), "")
	f.Fuzz(func(t *testing.T, user, thread string) {
		err := wsmanager.UserContext{UserID: user, ThreadID: thread}.Validate()
		userOK, threadOK := validID(user, 1), validID(thread, 0)
		if (err == nil) != (userOK && threadOK) {
			t.Fatalf("Validate(%q, %q) = %v; user valid %v, thread valid %v", user, thread, err, userOK, threadOK)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, wsmanager.ErrInvalidUser) {
			t.Fatalf("Validate = %v, want ErrInvalidUser", err)
		}
		if !userOK && user != "" && strings.Contains(err.Error(), user) || !threadOK && thread != "" && strings.Contains(err.Error(), thread) {
			t.Fatalf("error %q quotes the invalid value", err)
		}
	})
}
