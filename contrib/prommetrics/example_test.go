package prommetrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssotkit/ssot/contrib/prommetrics"
	"github.com/ssotkit/ssot/wsmanager"
)

func Example() {
	f, err := wsmanager.NewFactory(wsmanager.Options{})
	if err != nil {
		panic(err)
	}
	defer f.Close(context.Background())
	c, err := prommetrics.NewFactoryCollector(f)
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry() // the caller's registry, never the global one
	reg.MustRegister(c)

	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range families {
		if mf.GetName() == "ssot_ws_connections_active" {
			fmt.Println(mf.GetName(), mf.GetType(), mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// ssot_ws_connections_active GAUGE 0
}
