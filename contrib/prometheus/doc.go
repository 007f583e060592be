// Package prometheus exports the statistics of a flujo executor, an
// *flujo.ExecutorCore or a generated one, as Prometheus metrics. It lives
// in a module of its own so that the main flujo module never depends on
// the Prometheus client.
//
// Register one Collector per executor, named after its pipeline, and
// serve the registry:
//
//	import (
//		"github.com/prometheus/client_golang/prometheus"
//		"github.com/prometheus/client_golang/prometheus/promhttp"
//		flujoprom "github.com/flujo/flujo/contrib/prometheus"
//	)
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(flujoprom.MustNewCollector("orders", exec)) // exec: *flujo.ExecutorCore or a generated executor
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
//
// # What a scrape costs
//
// Nothing is recorded for the metrics: each scrape reads one
// OptimizationStats snapshot and one LatencyHistograms reading of the
// executor and turns them into const metrics. The executor's paths are
// untouched; the scrape loads each step's histogram buckets once, without
// a lock, and allocates per series, not per execution.
//
// # Metrics
//
// Every name begins with flujo_, carries its unit (_seconds, _bytes, _ratio)
// and, for counters, ends in _total. Every series has the const label
// pipeline; per-step series have step; runs and step executions have
// outcome ("success" or "failure"); flujo_breaker_state has state (one
// series per state, 1 for the current one). A step gets cache series only
// when it has a result cache, and breaker series when breakers are on.
// docs/metrics.md in the flujo repository lists them all.
//
// # Latency histograms
//
// flujo_step_duration_seconds and flujo_run_duration_seconds are read from
// the performance monitor's log-linear histograms (runtime.Histogram).
// Their bucket bounds are runtime.LatencyBucketBounds: 2^k-1 ns for k from
// 10 to 36, that is 1.023 µs, 2.047 µs, ... up to 68.72 s, each twice the
// one before, and +Inf. A power of two is where the monitor's buckets
// start a new group, so the counts are exact, not estimated; a quantile
// computed with histogram_quantile interpolates within one of these
// buckets, so it is within a factor of two of the truth at worst (the
// /v1/stats percentiles, read from the fine buckets, are within 1/32).
// Step histograms hold the executions recorded while
// enable_performance_monitoring was on; the run histogram the runs whose
// latency was measured.
//
// # Dashboard
//
// grafana/flujo-dashboard.json is a Grafana dashboard for these metrics:
// runs per second by outcome and their failure ratio, run and step
// latency p50/p99, step executions, retries and regressions, cache hit
// ratio, breaker states, opens and rejections, the concurrency limiter,
// memory, telemetry and the object pool. Import it and pick the
// Prometheus data source.
package prometheus
