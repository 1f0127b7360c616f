package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/internal/testkit/chromium"
)

// TestBrowserChat logs in as three users in three tabs of one headless
// Chromium, has alice and bob exchange direct messages and talk to the
// room, and checks that each tab shows exactly what its user may see.
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	path := chromium.Path(t)
	s := start(t, nil, hooks{})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, path, chromedp.WindowSize(900, 700))...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first Do starts the browser, which lives as long as browser.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}

	tabs := map[string]context.Context{}
	for _, user := range []string{"alice", "bob", "carol"} {
		tab, cancelTab := chromedp.NewContext(browser)
		defer cancelTab()
		tabs[user] = tab
		err := chromedp.Do(tab,
			chromedp.Navigate(s.base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			chromedp.SendKeys(chromedp.CSS("#user"), user),
			chromedp.Click(chromedp.CSS("#login")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-state="connected"]`)),
		)
		if err != nil {
			t.Fatalf("%s: logging in: %v", user, err)
		}
	}

	// alice and bob exchange direct messages, and each then talks to the
	// room, as a marker: every tab's messages arrive in order, so once carol
	// shows both markers she would already show a direct message had she
	// received one.
	say := func(user, to, text string) {
		t.Helper()
		if _, err := chromedp.Run(tabs[user], chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById("to").value = %q`, to))); err != nil {
			t.Fatalf("%s: setting the recipient: %v", user, err)
		}
		err := chromedp.Do(tabs[user],
			chromedp.SendKeys(chromedp.CSS("#text"), text),
			chromedp.Click(chromedp.CSS("#send")),
		)
		if err != nil {
			t.Fatalf("%s: sending: %v", user, err)
		}
	}
	say("alice", "bob", "hello bob, just you")
	say("alice", "", "hello room")
	if err := chromedp.Do(tabs["bob"], chromedp.WaitVisible(`//li[contains(@class,"dm")][contains(., "hello bob, just you")]`)); err != nil {
		t.Fatalf("bob never saw alice's direct message: %v", err)
	}
	say("bob", "alice", "hi alice, only you")
	say("bob", "", "bob to the room")

	for _, user := range []string{"alice", "bob", "carol"} {
		for _, marker := range []string{"hello room", "bob to the room"} {
			if err := chromedp.Do(tabs[user], chromedp.WaitVisible(fmt.Sprintf(`//li[contains(@class,"message")][contains(., %q)]`, marker))); err != nil {
				t.Fatalf("%s never saw the room message %q: %v", user, marker, err)
			}
		}
	}
	count := func(user, selector string) int {
		t.Helper()
		n, err := chromedp.Run(tabs[user], chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, selector)))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return n
	}
	text := func(user, selector string) string {
		t.Helper()
		s, err := chromedp.Run(tabs[user], chromedp.Text(chromedp.CSS(selector)))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return s
	}
	if got := count("bob", "#messages li.dm.incoming"); got != 1 {
		t.Errorf("bob's tab shows %d incoming direct messages, want 1", got)
	} else if got := text("bob", "#messages li.dm.incoming"); !strings.Contains(got, "alice → you:") || !strings.Contains(got, "hello bob, just you") {
		t.Errorf("bob's tab shows %q", got)
	}
	if got := count("alice", "#messages li.dm.incoming"); got != 1 {
		t.Errorf("alice's tab shows %d incoming direct messages, want 1", got)
	} else if got := text("alice", "#messages li.dm.incoming"); !strings.Contains(got, "bob → you:") || !strings.Contains(got, "hi alice, only you") {
		t.Errorf("alice's tab shows %q", got)
	}
	for _, user := range []string{"alice", "bob"} {
		if got := count(user, "#messages li.dm.outgoing"); got != 1 {
			t.Errorf("%s's tab shows %d sent direct messages, want 1", user, got)
		}
	}
	if got := count("carol", "#messages li.dm"); got != 0 {
		t.Errorf("carol's tab shows %d direct messages meant for bob, want 0", got)
	}

	// bob's tab loses its connection; alice sends him direct messages
	// meanwhile; when the tab reconnects it presents the position of the
	// last one it showed and gets each missed one, once, in order.
	if _, err := chromedp.Run(tabs["bob"], chromedp.Evaluate[bool](`chat.client.close(1000, "offline"); true`)); err != nil {
		t.Fatalf("bob: closing the connection: %v", err)
	}
	if err := chromedp.Do(tabs["bob"], chromedp.WaitVisible(chromedp.CSS(`body[data-state="closed"]`))); err != nil {
		t.Fatalf("bob's tab never noticed its connection closing: %v", err)
	}
	missed := []string{"missed one", "missed two", "missed three"}
	for _, m := range missed {
		say("alice", "bob", m)
		if err := chromedp.Do(tabs["alice"], chromedp.WaitVisible(`//li[contains(@class,"error")][last()]`)); err != nil {
			t.Fatalf("alice: %v", err)
		}
	}
	if _, err := chromedp.Run(tabs["bob"], chromedp.Evaluate[bool](`chat.client.connect(); true`)); err != nil {
		t.Fatalf("bob: reconnecting: %v", err)
	}
	if err := chromedp.Do(tabs["bob"], chromedp.WaitVisible(`//li[contains(@class,"dm")][contains(., "missed three")]`)); err != nil {
		t.Fatalf("bob's tab never showed the direct messages it missed: %v", err)
	}
	incoming, err := chromedp.Run(tabs["bob"], chromedp.Evaluate[[]string](`[...document.querySelectorAll("#messages li.dm.incoming")].map(li => li.lastChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append([]string{"hello bob, just you"}, missed...), incoming); diff != "" {
		t.Errorf("bob's incoming direct messages after reconnecting (-want +got):\n%s", diff)
	}

	png, err := chromedp.Run(tabs["bob"], chromedp.FullScreenshot(100)) // quality 100 is PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "bob.png")
	if err := os.WriteFile(shot, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of bob's tab: %s (%d bytes)", shot, len(png))

	// The server going away reaches the page as 1001, which it explains.
	if err := s.shutdown(t); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := chromedp.Do(tabs["carol"], chromedp.WaitVisible(chromedp.CSS(`body[data-state="closed"]`))); err != nil {
		t.Fatalf("carol's tab never noticed the shutdown: %v", err)
	}
	if got := text("carol", "#status"); !strings.Contains(got, "restarting") {
		t.Errorf("carol's status after shutdown: %q, want the 1001 explanation", got)
	}
}

// TestBrowserRefreshesToken: with tokens that live 3 seconds, the page
// refreshes its token in band before each expires, and its connection
// stays open, serving, well past the first token's expiry.
func TestBrowserRefreshesToken(t *testing.T) {
	t.Parallel()
	path := chromium.Path(t)
	s := start(t, map[string]string{"CHAT_DEV_TOKEN_TTL": "3s"}, hooks{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, path)...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	err := chromedp.Do(tab,
		chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#user"), "alice"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="connected"]`)),
	)
	if err != nil {
		t.Fatalf("logging in: %v", err)
	}
	time.Sleep(7 * time.Second) // two token lifetimes and more
	state, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.dataset.state`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "connected" {
		t.Fatalf("the page is %q seven seconds after logging in with a 3-second token, want still connected", state)
	}
	h := s.health(t).Connections
	if h.TokenRefreshes < 2 || h.ExpiredCloses != 0 || h.RefreshFailures != 0 {
		t.Errorf("TokenRefreshes %d, ExpiredCloses %d, RefreshFailures %d; want at least 2, 0, 0", h.TokenRefreshes, h.ExpiredCloses, h.RefreshFailures)
	}
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS("#text"), "still here"),
		chromedp.Click(chromedp.CSS("#send")),
		chromedp.WaitVisible(`//li[contains(@class,"message")][contains(., "still here")]`),
	); err != nil {
		t.Fatalf("the connection no longer serves after the refreshes: %v", err)
	}
}

// browserOptions are the options every browser test here starts Chromium
// with: the one at path, the repository's switches (chromium.Switches), a
// profile of its own, and extra.
func browserOptions(t *testing.T, path string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()))
	for name, value := range chromium.Switches() {
		opts = append(opts, chromedp.Flag(name, value))
	}
	return append(opts, extra...)
}
