package gorillaws_test

import (
	"testing"

	"github.com/ssotkit/ssot/contrib/gorillaws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newUpgrader(t testing.TB, opts wsmanagertest.Options) wsmanager.Upgrader {
	t.Helper()
	up, err := gorillaws.NewUpgrader(gorillaws.Options{ReadLimit: opts.ReadLimit, OriginPatterns: opts.OriginPatterns, Binary: opts.Binary})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestConformance(t *testing.T) {
	t.Parallel()
	wsmanagertest.Run(t, wsmanagertest.Transport{
		NewUpgrader:      newUpgrader,
		ErrCloseCode:     gorillaws.ErrCloseCode,
		DefaultReadLimit: gorillaws.DefaultReadLimit,
	})
}
