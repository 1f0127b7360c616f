package chromium_test

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/ssotkit/ssot/internal/testkit/chromium"
)

func TestFind(t *testing.T) {
	t.Parallel()
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	some := func(name string) (string, error) {
		if name == "chromium-browser" {
			return "/usr/bin/chromium-browser", nil
		}
		return "", exec.ErrNotFound
	}
	tests := []struct {
		name     string
		lookPath func(string) (string, error)
		ci       string
		want     string // "path", "fatal" or "skip"
	}{
		{"installed", some, "", "path"},
		{"installed in CI", some, "1", "path"},
		{"missing locally", none, "", "skip"},
		{"missing with CI=false", none, "false", "skip"},
		{"missing with CI=0", none, "0", "skip"},
		{"missing with CI=true", none, "true", "fatal"},
		{"missing with CI=1", none, "1", "fatal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, fatal, skip := chromium.Find(tt.lookPath, tt.ci)
			var got []string
			for what, v := range map[string]string{"path": path, "fatal": fatal, "skip": skip} {
				if v != "" {
					got = append(got, what)
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("Find = %q, %q, %q; want only a %s", path, fatal, skip, tt.want)
			}
		})
	}
}

func ExampleFind() {
	onlyChrome := func(name string) (string, error) {
		if name == "google-chrome" {
			return "/opt/google/chrome/chrome", nil
		}
		return "", exec.ErrNotFound
	}
	path, _, _ := chromium.Find(onlyChrome, "")
	fmt.Println(path)
	_, fatal, _ := chromium.Find(func(string) (string, error) { return "", exec.ErrNotFound }, "true")
	fmt.Println(fatal != "")
	// Output:
	// /opt/google/chrome/chrome
	// true
}
