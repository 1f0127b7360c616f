//go:build !with_auth

package bench

// authOursCases is empty until the auth package exists.
func authOursCases() []authCase { return nil }
