package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

func TestCloseCodeAndHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		code   int
		status int
	}{
		{"success", nil, 1000, 200},
		{"no token", auth.ErrNoToken, 1008, 401},
		{"invalid token", fmt.Errorf("jwt: %w", auth.ErrInvalidToken), 1008, 401},
		{"expired", auth.ErrExpired, 1008, 401},
		{"unavailable", fmt.Errorf("idp down: %w", auth.ErrUnavailable), 1013, 503},
		{"internal", errors.New("bug"), 1011, 500},
		{"cancelled", context.Canceled, 1011, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.CloseCode(tt.err); got != tt.code {
				t.Errorf("CloseCode = %d, want %d", got, tt.code)
			}
			if got := auth.HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
		})
	}
}
