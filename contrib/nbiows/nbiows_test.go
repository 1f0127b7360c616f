package nbiows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// newNbioUpgrader returns an Upgrader closed when the test ends, after the
// test's servers and connections.
func newNbioUpgrader(t testing.TB, opts nbiows.Options) *nbiows.Upgrader {
	t.Helper()
	up, err := nbiows.NewUpgrader(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wsmanagertest.Timeout)
		defer cancel()
		if err := up.Close(ctx); err != nil {
			t.Errorf("Upgrader.Close: %v", err)
		}
	})
	return up
}

func newUpgrader(t testing.TB, opts wsmanagertest.Options) wsmanager.Upgrader {
	t.Helper()
	return newNbioUpgrader(t, nbiows.Options{ReadLimit: opts.ReadLimit, OriginPatterns: opts.OriginPatterns, Binary: opts.Binary, Workers: 4})
}

func TestConformance(t *testing.T) {
	t.Parallel()
	wsmanagertest.Run(t, wsmanagertest.Transport{
		NewUpgrader:      newUpgrader,
		ErrCloseCode:     nbiows.ErrCloseCode,
		DefaultReadLimit: nbiows.DefaultReadLimit,
		Batch:            true,
	})
}

func TestNewUpgraderRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts nbiows.Options
	}{
		{"negative read limit", nbiows.Options{ReadLimit: -1}},
		{"negative backlog", nbiows.Options{Backlog: -1}},
		{"negative ping interval", nbiows.Options{PingInterval: -time.Second}},
		{"negative handshake timeout", nbiows.Options{HandshakeTimeout: -time.Second}},
		{"negative workers", nbiows.Options{Workers: -1}},
		{"negative pollers", nbiows.Options{Pollers: -1}},
		{"malformed origin pattern", nbiows.Options{OriginPatterns: []string{"[app.test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := nbiows.NewUpgrader(tt.opts); !errors.Is(err, nbiows.ErrInvalidOptions) {
				t.Errorf("NewUpgrader = %v, want ErrInvalidOptions", err)
			}
		})
	}
}
