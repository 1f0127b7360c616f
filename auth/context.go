package auth

import "context"

// identityKey is the one context key under which an Identity travels, so
// that every package of a service finds the same identity with
// IdentityFrom.
type identityKey struct{}

// WithIdentity returns a copy of ctx that carries id, where IdentityFrom
// finds it. The "auth" middleware of package middleware calls it once a
// request is authenticated, and wsmanager's endpoint once a WebSocket's
// request is, so its handlers find the identity too; call it yourself to hand an identity to code
// that reads it with IdentityFrom, such as a handler under test.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity that WithIdentity stored in ctx, and
// false if there is none. The returned Identity has its own copy of Scopes.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	if !ok {
		return Identity{}, false
	}
	return id.clone(), true
}
