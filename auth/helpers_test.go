package auth_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ssotkit/ssot/auth"
)

func newUnified(t testing.TB, backend auth.Authenticator, opts auth.Options) *auth.Unified {
	t.Helper()
	u, err := auth.New(backend, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := u.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return u
}

// fakeBackend answers from a function and counts its calls.
type fakeBackend struct {
	calls atomic.Int64
	fn    func(ctx context.Context, token string) (auth.Identity, error)
}

func (f *fakeBackend) Authenticate(ctx context.Context, token string) (auth.Identity, error) {
	f.calls.Add(1)
	return f.fn(ctx, token)
}

// users accepts "token-<name>" as user <name>, rejects everything else.
func users() *fakeBackend {
	return &fakeBackend{fn: func(_ context.Context, token string) (auth.Identity, error) {
		name, ok := bytes.CutPrefix([]byte(token), []byte("token-"))
		if !ok {
			return auth.Identity{}, auth.ErrInvalidToken
		}
		return auth.Identity{UserID: string(name), Scopes: []string{"chat"}}, nil
	}}
}

var errDown = errors.New("dial tcp 10.0.0.1:443: connection refused")

// down fails every call as an unreachable backend would.
func down() *fakeBackend {
	return &fakeBackend{fn: func(context.Context, string) (auth.Identity, error) { return auth.Identity{}, errDown }}
}
