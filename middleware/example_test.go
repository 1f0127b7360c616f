package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/middleware"
)

func ExampleNew() {
	logRequests := middleware.Middleware{
		Name:  "log",
		After: []string{"request_id"}, // needs the ID set outside it
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := middleware.RequestIDFrom(r.Context())
				fmt.Println("request", id, r.URL.Path)
				next.ServeHTTP(w, r)
			})
		},
	}
	chain, err := middleware.New(middleware.Recover(nil), middleware.RequestID(), logRequests)
	if err != nil {
		panic(err)
	}
	fmt.Println(chain)

	h, err := chain.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	}))
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/hello", nil)
	r.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body.String())

	// Getting the order wrong is an error at start-up, not a bug in production.
	_, err = middleware.New(logRequests, middleware.RequestID())
	fmt.Println(err)
	// Output:
	// recover → request_id → log
	// request req-1 /hello
	// hello
	// middleware: wrong order: "log" must come after "request_id", but comes before it
}

func ExampleSession() {
	session, err := middleware.Session(middleware.SessionOptions{
		Keys: [][]byte{[]byte(strings.Repeat("k", 32))}, // from your secret store
	})
	if err != nil {
		panic(err)
	}
	chain, _ := middleware.New(session)
	h, _ := chain.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := middleware.SessionFrom(r.Context())
		if s.Get("user") == "" {
			s.Set("user", "alice")
			s.Renew() // a privilege change: restart the session's lifetime
			fmt.Fprintln(w, "logged in")
			return
		}
		fmt.Fprintln(w, "welcome back,", s.Get("user"))
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Print(w.Body.String())
	cookie := w.Result().Cookies()[0]
	fmt.Println(cookie.Name, cookie.HttpOnly)

	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body.String())
	// Output:
	// logged in
	// session true
	// welcome back, alice
}

func ExampleStandard() {
	// In a real service: auth.NewIntrospection or an auth.Func of your own.
	backend, err := auth.NewStatic(map[string]auth.Identity{"alice-token": {UserID: "alice"}}, env.Test)
	if err != nil {
		panic(err)
	}
	authn, err := auth.New(backend, auth.Options{})
	if err != nil {
		panic(err)
	}
	defer authn.Close(context.Background())

	chain, err := middleware.Standard(middleware.StandardOptions{
		Session:     &middleware.SessionOptions{Keys: [][]byte{[]byte(strings.Repeat("k", 32))}, Environment: env.Test},
		Auth:        authn,
		AuthOptions: middleware.AuthOptions{Skip: []string{"/healthz"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(chain)

	h, err := chain.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := auth.IdentityFrom(r.Context())
		fmt.Fprintln(w, "user:", id.UserID, ok)
	}))
	if err != nil {
		panic(err)
	}
	for _, tc := range []struct{ path, token string }{{"/api/me", "alice-token"}, {"/api/me", ""}, {"/healthz", ""}} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(tc.path, " ", w.Code, " ", w.Body.String())
	}
	// Output:
	// recover → request_id → session → auth
	// /api/me 200 user: alice true
	// /api/me 401 Unauthorized
	// /healthz 200 user:  false
}
