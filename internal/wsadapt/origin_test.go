package wsadapt

import (
	"errors"
	"net/http/httptest"
	"path"
	"testing"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		host     string
		origins  []string
		patterns []string
		want     bool
	}{
		{"no origin", "chat.test", nil, nil, true},
		{"same host", "chat.test:8080", []string{"http://chat.test:8080"}, nil, true},
		{"same host, different case", "Chat.Test", []string{"https://chat.test"}, nil, true},
		{"same name, other port", "chat.test:8080", []string{"http://chat.test:9090"}, nil, false},
		{"other site", "chat.test", []string{"https://evil.test"}, nil, false},
		{"two origin headers", "chat.test", []string{"http://chat.test", "http://chat.test"}, nil, false},
		{"null origin", "chat.test", []string{"null"}, nil, false},
		{"unparsable origin", "chat.test", []string{"http://%zz"}, nil, false},
		{"host pattern", "api.test", []string{"https://app.example.com"}, []string{"*.example.com"}, true},
		{"host pattern ignores case", "api.test", []string{"https://APP.example.com"}, []string{"*.Example.com"}, true},
		{"pattern is not a suffix match", "api.test", []string{"https://example.com.evil.test"}, []string{"example.com"}, false},
		{"scheme pattern matches", "api.test", []string{"https://app.test"}, []string{"https://app.test"}, true},
		{"scheme pattern rejects http", "api.test", []string{"http://app.test"}, []string{"https://app.test"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "http://"+tt.host+"/ws", nil)
			for _, o := range tt.origins {
				r.Header.Add("Origin", o)
			}
			if got := Allowed(r, tt.patterns); got != tt.want {
				t.Errorf("Allowed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := Validate([]string{"*.example.com", "https://app.test"}); err != nil {
		t.Errorf("Validate(good patterns) = %v", err)
	}
	if err := Validate([]string{"ok.test", "[bad"}); !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("Validate([bad) = %v, want path.ErrBadPattern", err)
	}
}
