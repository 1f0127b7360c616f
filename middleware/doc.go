// Package middleware is an explicit, checked HTTP middleware chain and the
// middlewares every service needs: panic recovery, request IDs, encrypted
// cookie sessions and authentication.
//
// # Order
//
// A [Chain] lists middlewares outermost first: the first one sees the request
// first and the response last. Names are unique, and a middleware can declare
// in After which others must be outside it; [New] and [Chain.Append] check all
// of it at start-up and report every violation at once, naming the
// middlewares involved. [Chain.Names] shows the order actually built, and
// [Chain.Then] builds the handler once, so serving a request costs nothing
// beyond the middlewares' own work.
//
// [Standard] builds the recommended order in one call:
//
//	recover → request_id → session → auth
//
// # The middlewares
//
//   - [Recover] turns a panic into a logged 500 without leaking the panic to
//     the client.
//   - [RequestID] honours a well-formed X-Request-Id or generates one.
//   - [Session] keeps string key/value data in an AES-GCM sealed cookie with
//     key rotation; a bad cookie yields a fresh session, never an error page.
//   - [NewAuthenticate] authenticates requests through an auth.Unified, with
//     skip rules that match exact paths or "/"-terminated prefixes only,
//     decided on the path as the client sent it: "/" skips the root, not
//     everything, and /public%2Fadmin is not under /public/.
//
// Every middleware is a plain func(http.Handler) http.Handler, and context
// values sit behind unexported keys with From getters ([RequestIDFrom],
// [SessionFrom]). The identity is auth's: the "auth" middleware stores it
// with auth.WithIdentity, and auth.IdentityFrom (or its alias here,
// [IdentityFrom]) reads it.
package middleware
