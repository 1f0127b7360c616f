package prommetrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// registry returns a function that registers the collector a constructor
// returned on a new pedantic registry (which checks every metric's
// consistency) and returns the registry.
func registry(t *testing.T) func(prometheus.Collector, error) *prometheus.Registry {
	return func(c prometheus.Collector, err error) *prometheus.Registry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		return reg
	}
}
