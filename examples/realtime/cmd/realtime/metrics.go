package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	flujoprom "github.com/flujo/flujo/contrib/prometheus"
	"github.com/flujo/flujo/examples/realtime"
)

// metricsRoutes mounts GET /metrics: the executor's flujo_* metrics
// (contrib/prometheus, labelled pipeline="answer") and the Go runtime's
// and the process's, in the Prometheus text format. The registry is the
// command's own, not the client library's global one.
func metricsRoutes(mux *http.ServeMux, exec realtime.Executor) error {
	c, err := flujoprom.NewCollector("answer", exec)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return nil
}
