package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ssotkit/ssot/internal/testkit/chromium"
)

// startBrowser starts a headless Chromium, with the flags examples/chat's
// browser test uses, for the test and its subtests; it stops when the
// test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium.Path(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
	)
	for name, value := range chromium.Switches() {
		opts = append(opts, chromedp.Flag(name, value))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return browser
}

// tab is one page of the test, at front's address.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// waitTimeout bounds every wait for the page.
const waitTimeout = 30 * time.Second

// openTab opens the test page of base in a new tab of browser, closed when
// the test ends.
func openTab(t *testing.T, browser context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	p.wait("window.ready === true")
	return p
}

// start creates the page's Client with the options of o (see
// testdata/index.html) and connects it.
func (p *tab) start(o map[string]any) {
	p.t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		p.t.Fatal(err)
	}
	p.eval(fmt.Sprintf("start(%s)", b))
}

// eval evaluates expr in the page and returns its value as JSON.
func (p *tab) eval(expr string) json.RawMessage {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// evalInto evaluates expr and decodes its value into v.
func (p *tab) evalInto(expr string, v any) {
	p.t.Helper()
	if err := json.Unmarshal(p.eval(expr), v); err != nil {
		p.t.Fatalf("decoding %s: %v", expr, err)
	}
}

// wait waits, within waitTimeout, for expr to be true in the page, and
// fails the test with the page's events otherwise.
func (p *tab) wait(expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		var events json.RawMessage
		if v, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage]("window.events || null")); err == nil {
			events = v
		}
		p.t.Fatalf("waiting for %s: %v; the page's events: %s", expr, err, events)
	}
}

// messages returns the payloads starting with prefix the page received,
// in order.
func (p *tab) messages(prefix string) []string {
	p.t.Helper()
	var got []string
	p.evalInto(fmt.Sprintf("messages(%q)", prefix), &got)
	return got
}

// event is one event the page recorded.
type event struct {
	Type        string
	State       string
	Code        int
	Reason      string
	Position    *string
	Data        any
	Opened      bool
	ReconnectIn *int
}

// events returns the events the page recorded, in order.
func (p *tab) events() []event {
	p.t.Helper()
	var got []event
	p.evalInto("events", &got)
	return got
}

// position returns the client's position.
func (p *tab) position() string {
	p.t.Helper()
	var s string
	p.evalInto("client.position", &s)
	return s
}
