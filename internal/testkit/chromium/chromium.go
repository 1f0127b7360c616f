// Package chromium finds the Chromium that the repository's browser tests
// drive (examples/chat's and the client module's, for ssot.js), with one
// rule for all of them: a test fails when CI is set and Chromium is
// missing, so that it cannot silently stop running in CI, and is skipped,
// saying why, otherwise. .ci/chromium-note looks for the same names.
package chromium

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Names returns the names Chromium goes by on the systems we know, in the
// order Find looks for them.
func Names() []string {
	return []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
}

// CISet reports whether the CI variable's value says the tests run in CI:
// set, and neither "0" nor "false". CI services set CI=true, .ci/run sets
// CI=1.
func CISet(value string) bool {
	return value != "" && value != "0" && !strings.EqualFold(value, "false")
}

// Find returns the path of a Chromium to drive, looked up with lookPath,
// or why there is none: fatal when ci (the CI variable's value) is set,
// and a reason to skip otherwise. Exactly one of the three is not empty.
func Find(lookPath func(string) (string, error), ci string) (path, fatal, skip string) {
	for _, name := range Names() {
		if p, err := lookPath(name); err == nil {
			return p, "", ""
		}
	}
	if CISet(ci) {
		return "", "CI is set but Chromium is not installed: the browser tests must run in CI (apt-get install chromium)", ""
	}
	return "", "", "Chromium is not installed, so the browser tests cannot run; install it (apt-get install chromium) to run them"
}

// Switches returns the command-line switches, name to value, that every
// browser test starts Chromium with: headless, without a sandbox (the
// tests run as root), a GPU or a first-run page, without QUIC, and
// without Chromium's own background traffic, which a closed network
// refuses, many connections at a time.
func Switches() map[string]any {
	return map[string]any{
		"headless":                      true,
		"no-sandbox":                    true,
		"disable-gpu":                   true,
		"no-first-run":                  true,
		"disable-quic":                  true,
		"disable-background-networking": true,
		"disable-component-update":      true,
		"disable-sync":                  true,
	}
}

// Path returns the path of the Chromium on PATH, failing the test when CI
// is set and there is none, and skipping it otherwise.
func Path(t testing.TB) string {
	t.Helper()
	path, fatal, skip := Find(exec.LookPath, os.Getenv("CI"))
	switch {
	case fatal != "":
		t.Fatal(fatal)
	case skip != "":
		t.Skip(skip)
	}
	return path
}
