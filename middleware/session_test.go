package middleware_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/env"
	"github.com/ssotkit/ssot/internal/testkit/testlog"
	"github.com/ssotkit/ssot/middleware"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func sessionMW(t testing.TB, opts middleware.SessionOptions) middleware.Middleware {
	t.Helper()
	m, err := middleware.Session(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sessionHandler applies ops to the session and writes its sorted contents.
func sessionHandler(t *testing.T, ops func(*middleware.SessionData)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := middleware.SessionFrom(r.Context())
		if !ok {
			t.Error("no session in the context")
			return
		}
		if ops != nil {
			ops(s)
		}
		for _, k := range s.Keys() {
			_, _ = w.Write([]byte(k + "=" + s.Get(k) + ";"))
		}
	})
}

// do serves one request with the given cookies and returns the response.
func do(h http.Handler, cookies ...*http.Cookie) *http.Response {
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func sessionCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	set := build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice"); s.Set("theme", "dark") }), m)
	read := build(t, sessionHandler(t, nil), m)

	first := do(set)
	c := sessionCookie(t, first, "session")
	if c == nil {
		t.Fatal("no cookie after Set")
	}
	if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 86400 {
		t.Errorf("cookie attributes = %+v", c)
	}
	if strings.Contains(c.Value, "alice") {
		t.Error("cookie value is not encrypted")
	}
	second := do(read, c)
	if got := body(second); got != "theme=dark;user=alice;" {
		t.Errorf("read back %q", got)
	}
	if sessionCookie(t, second, "session") != nil {
		t.Error("an unchanged session rewrote its cookie")
	}
	// Setting the same value again is not a change.
	same := build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice") }), m)
	if sessionCookie(t, do(same, c), "session") != nil {
		t.Error("setting an unchanged value rewrote the cookie")
	}
}

func TestSessionKeyRotation(t *testing.T) {
	t.Parallel()
	old := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	rotated := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(2), testKey(1)}})
	onlyNew := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(2)}})

	c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice") }), old)), "session")
	if got := body(do(build(t, sessionHandler(t, nil), rotated), c)); got != "user=alice;" {
		t.Fatalf("rotated keys cannot open a cookie of the old key: %q", got)
	}
	// A change re-seals with the first key, which the old key cannot open.
	resealed := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("n", "1") }), rotated), c), "session")
	if got := body(do(build(t, sessionHandler(t, nil), onlyNew), resealed)); got != "n=1;user=alice;" {
		t.Errorf("new key cannot open the re-sealed cookie: %q", got)
	}
	if got := body(do(build(t, sessionHandler(t, nil), old), resealed)); got != "" {
		t.Errorf("the retired key opened a cookie sealed by the new one: %q", got)
	}
}

// TestSessionTamperingYieldsAFreshSession alters a real cookie every way an
// attacker or a broken proxy could: each character of its text, each byte of
// what it decodes to, and each truncation. The three values give sealed
// lengths of every residue mod 3, so the last base64 character's unused bits
// are covered too.
func TestSessionTamperingYieldsAFreshSession(t *testing.T) {
	t.Parallel()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	read := build(t, sessionHandler(t, nil), m)
	for _, role := range []string{"user", "user1", "user12"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("role", role) }), m)), "session")
			if got := body(do(read, c)); got != "role="+role+";" {
				t.Fatalf("the untouched cookie reads %q", got)
			}
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			for i := range len(c.Value) {
				for _, bit := range []int{1, 32} {
					b := []byte(c.Value)
					b[i] = alphabet[strings.IndexByte(alphabet, b[i])^bit]
					resp := do(read, &http.Cookie{Name: "session", Value: string(b)})
					if got := body(resp); got != "" || resp.StatusCode != 200 {
						t.Fatalf("changing character %d gave %d %q, want a fresh empty session", i, resp.StatusCode, got)
					}
					if d := sessionCookie(t, resp, "session"); d == nil || d.MaxAge >= 0 {
						t.Fatalf("changing character %d: the unreadable cookie was not deleted", i)
					}
				}
			}
			raw, err := base64.RawURLEncoding.DecodeString(c.Value)
			if err != nil {
				t.Fatal(err)
			}
			for i := range raw {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					b := bytes.Clone(raw)
					b[i] ^= mask
					resp := do(read, &http.Cookie{Name: "session", Value: base64.RawURLEncoding.EncodeToString(b)})
					if got := body(resp); got != "" || resp.StatusCode != 200 {
						t.Fatalf("flipping bits %#x of sealed byte %d gave %d %q, want a fresh empty session", mask, i, resp.StatusCode, got)
					}
				}
			}
			for n := range len(c.Value) {
				if got := body(do(read, &http.Cookie{Name: "session", Value: c.Value[:n]})); got != "" {
					t.Fatalf("truncated to %d characters: %q", n, got)
				}
			}
		})
	}
}

func TestSessionIsBoundToItsCookieName(t *testing.T) {
	t.Parallel()
	a := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, CookieName: "a"})
	b := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, CookieName: "b"})
	c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice") }), a)), "a")
	if got := body(do(build(t, sessionHandler(t, nil), b), &http.Cookie{Name: "b", Value: c.Value})); got != "" {
		t.Errorf("a cookie moved to another name opened: %q", got)
	}
	other := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(9)}, CookieName: "a"})
	if got := body(do(build(t, sessionHandler(t, nil), other), c)); got != "" {
		t.Errorf("a cookie of another service's key opened: %q", got)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, MaxAge: time.Hour})
		c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice") }), m)), "session")
		if c.MaxAge != 3600 {
			t.Errorf("Max-Age = %d, want 3600", c.MaxAge)
		}
		read := build(t, sessionHandler(t, nil), m)
		time.Sleep(59 * time.Minute)
		if got := body(do(read, c)); got != "user=alice;" {
			t.Fatalf("after 59m: %q", got)
		}
		time.Sleep(time.Minute)
		if got := body(do(read, c)); got != "" {
			t.Fatalf("after 1h: %q, want an expired, empty session", got)
		}
	})
}

func TestSessionRenewRestartsTheLifetime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, MaxAge: time.Hour})
		c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("user", "alice") }), m)), "session")
		time.Sleep(50 * time.Minute)
		renewed := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Renew() }), m), c), "session")
		if renewed == nil || renewed.Value == c.Value {
			t.Fatal("Renew did not re-issue the cookie")
		}
		time.Sleep(30 * time.Minute)
		read := build(t, sessionHandler(t, nil), m)
		if got := body(do(read, c)); got != "" {
			t.Errorf("the old cookie outlived its MaxAge: %q", got)
		}
		if got := body(do(read, renewed)); got != "user=alice;" {
			t.Errorf("the renewed cookie: %q", got)
		}
	})
}

func TestSessionCookieAttributesPerEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		environment env.Name
		sameSite    http.SameSite
		secure      bool
		err         error
	}{
		{env.Development, 0, false, nil},
		{env.Test, http.SameSiteStrictMode, false, nil},
		{env.Staging, 0, true, nil},
		{env.Production, http.SameSiteNoneMode, true, nil},
		{env.Development, http.SameSiteNoneMode, false, middleware.ErrInsecure},
		{env.Test, http.SameSiteNoneMode, false, middleware.ErrInsecure},
	}
	for _, tt := range tests {
		t.Run(tt.environment.String(), func(t *testing.T) {
			t.Parallel()
			m, err := middleware.Session(middleware.SessionOptions{Keys: [][]byte{testKey(1)}, Environment: tt.environment, SameSite: tt.sameSite})
			if !errors.Is(err, tt.err) {
				t.Fatalf("Session = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("k", "v") }), m)), "session")
			want := tt.sameSite
			if want == 0 {
				want = http.SameSiteLaxMode
			}
			if c.Secure != tt.secure || !c.HttpOnly || c.SameSite != want {
				t.Errorf("Secure %v HttpOnly %v SameSite %v; want %v true %v", c.Secure, c.HttpOnly, c.SameSite, tt.secure, want)
			}
		})
	}
}

func TestSessionOptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts middleware.SessionOptions
		want error
	}{
		{"no keys", middleware.SessionOptions{}, middleware.ErrWeakSecret},
		{"short key", middleware.SessionOptions{Keys: [][]byte{testKey(1), make([]byte, 31)}}, middleware.ErrWeakSecret},
		{"negative MaxAge", middleware.SessionOptions{Keys: [][]byte{testKey(1)}, MaxAge: -time.Second}, middleware.ErrInvalid},
		{"bad cookie name", middleware.SessionOptions{Keys: [][]byte{testKey(1)}, CookieName: "a b"}, middleware.ErrInvalid},
		{"relative path", middleware.SessionOptions{Keys: [][]byte{testKey(1)}, Path: "app"}, middleware.ErrInvalid},
		{"unknown environment", middleware.SessionOptions{Keys: [][]byte{testKey(1)}, Environment: env.Production + 1}, middleware.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := middleware.Session(tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("Session = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSessionUpgradePassesThrough(t *testing.T) {
	t.Parallel()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("u", "a") }), m)), "session")
	var sawWriter http.ResponseWriter
	var hadSession bool
	h := build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawWriter = w
		_, hadSession = middleware.SessionFrom(r.Context())
	}), m)
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Upgrade", "WebSocket")
	r.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if sawWriter != w {
		t.Error("an upgrade request got a wrapped ResponseWriter")
	}
	if hadSession || w.Header().Get("Set-Cookie") != "" {
		t.Error("an upgrade request was given a session")
	}
}

func TestSessionCookieIsWrittenBeforeTheBody(t *testing.T) {
	t.Parallel()
	logger, logs := testlog.New()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, Logger: logger})
	lateSet := make(chan struct{})
	srv := httptest.NewServer(build(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := middleware.SessionFrom(r.Context())
		s.Set("before", "1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("body"))
		http.NewResponseController(w).Flush()
		s.Set("after", "2")
		close(lateSet)
	}), m))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-lateSet // the client can have the header before the handler's late Set
	c := sessionCookie(t, resp, "session")
	if resp.StatusCode != http.StatusCreated || c == nil {
		t.Fatalf("status %d, cookie %v", resp.StatusCode, c)
	}
	read := build(t, sessionHandler(t, nil), m)
	if got := body(do(read, c)); got != "before=1;" {
		t.Errorf("saved session = %q, want only the change made before the header", got)
	}
	if !strings.Contains(logs.String(), "not saved") {
		t.Errorf("the late change was not reported:\n%s", logs)
	}
}

func TestSessionClearDeletesTheCookie(t *testing.T) {
	t.Parallel()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	c := sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Set("u", "a") }), m)), "session")
	resp := do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Clear() }), m), c)
	if d := sessionCookie(t, resp, "session"); d == nil || d.MaxAge >= 0 || d.Value != "" {
		t.Errorf("Clear gave cookie %+v, want a deletion", d)
	}
	resp = do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Delete("u") }), m), c)
	if d := sessionCookie(t, resp, "session"); d == nil || d.MaxAge >= 0 {
		t.Errorf("deleting the last key gave cookie %+v, want a deletion", d)
	}
	if sessionCookie(t, do(build(t, sessionHandler(t, func(s *middleware.SessionData) { s.Clear() }), m)), "session") != nil {
		t.Error("clearing a session that had no cookie wrote one")
	}
}

func TestSessionTooLarge(t *testing.T) {
	t.Parallel()
	logger, logs := testlog.New()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}, Logger: logger})
	big := strings.Repeat("secret-payload", 400)
	var saveErr error
	resp := do(build(t, sessionHandler(t, func(s *middleware.SessionData) {
		s.Set("blob", big)
		saveErr = s.Save()
	}), m))
	if !errors.Is(saveErr, middleware.ErrTooLarge) {
		t.Errorf("Save = %v, want ErrTooLarge", saveErr)
	}
	if sessionCookie(t, resp, "session") != nil {
		t.Error("an oversized session was written")
	}
	out := logs.String()
	if !strings.Contains(out, "session not saved") || strings.Contains(out, "secret-payload") {
		t.Errorf("log = %s: want the failure reported without the data", out)
	}
	var ok error = errors.New("unset")
	do(build(t, sessionHandler(t, func(s *middleware.SessionData) {
		s.Set("small", "x")
		ok = s.Save()
	}), m))
	if ok != nil {
		t.Errorf("Save of a small session = %v", ok)
	}
}

func TestSessionDataIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	m := sessionMW(t, middleware.SessionOptions{Keys: [][]byte{testKey(1)}})
	set := build(t, sessionHandler(t, func(s *middleware.SessionData) {
		done := make(chan struct{})
		for i := range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				k := string(rune('a' + i))
				s.Set(k, k)
				_ = s.Get(k)
				_ = s.Keys()
			}()
		}
		for range 8 {
			<-done
		}
	}), m)
	c := sessionCookie(t, do(set), "session")
	if c == nil {
		t.Fatal("no cookie after concurrent Sets")
	}
	if got := body(do(build(t, sessionHandler(t, nil), m), c)); got != "a=a;b=b;c=c;d=d;e=e;f=f;g=g;h=h;" {
		t.Errorf("saved %q, want every concurrent Set", got)
	}
}
