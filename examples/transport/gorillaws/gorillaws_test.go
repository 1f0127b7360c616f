package gorillaws_test

import (
	"testing"

	"github.com/ssotkit/ssot/examples/internal/conntest"
	"github.com/ssotkit/ssot/examples/transport/gorillaws"
	"github.com/ssotkit/ssot/wsmanager"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newUpgrader(t testing.TB, opts conntest.Options) wsmanager.Upgrader {
	t.Helper()
	up, err := gorillaws.NewUpgrader(gorillaws.Options{ReadLimit: opts.ReadLimit, OriginPatterns: opts.OriginPatterns})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestConformance(t *testing.T) {
	t.Parallel()
	conntest.Run(t, conntest.Transport{
		New:              newUpgrader,
		ErrCloseCode:     gorillaws.ErrCloseCode,
		DefaultReadLimit: gorillaws.DefaultReadLimit,
	})
}
