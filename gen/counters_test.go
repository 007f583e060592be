package gen

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/stress"
	"github.com/flujo/flujo/runtime"
)

// cumulative returns the counters of st and of the step histograms h,
// named: the figures that exporters publish as counters.
func cumulative(st runtime.Stats, h runtime.LatencyHistograms) map[string]uint64 {
	out := map[string]uint64{
		"runs":                st.Execution.Count,
		"runs.failures":       st.Execution.Failures,
		"runs.slow":           st.Execution.Slow,
		"cache.hits":          st.Cache.Hits,
		"cache.misses":        st.Cache.Misses,
		"cache.evictions":     st.Cache.Evictions,
		"limiter.rejected":    st.Concurrency.Rejected,
		"errors.skipped":      st.Errors.SkippedRetries,
		"telemetry.recorded":  st.Telemetry.Recorded,
		"telemetry.exported":  st.Telemetry.Exported,
		"telemetry.dropped":   st.Telemetry.Dropped,
		"telemetry.batches":   st.Telemetry.Batches,
		"pool.gets":           st.Memory.ObjectPool.Gets,
		"pool.hits":           st.Memory.ObjectPool.Hits,
		"pool.misses":         st.Memory.ObjectPool.Misses,
		"pool.puts":           st.Memory.ObjectPool.Puts,
		"pool.drops":          st.Memory.ObjectPool.Drops,
		"runs.latency.count":  h.Runs.Count,
		"runs.latency.bucket": h.Runs.Cumulative[len(h.Runs.Cumulative)-1],
	}
	for name, s := range st.Steps {
		for k, v := range map[string]uint64{
			"executions": s.Errors.Executions, "successes": s.Errors.Executions - s.Errors.Failures, "failures": s.Errors.Failures,
			"retries": s.Errors.Retries, "slow": s.Execution.Slow,
			"cache.hits": s.Cache.Hits, "cache.misses": s.Cache.Misses, "cache.evictions": s.Cache.Evictions, "cache.expiries": s.Cache.Expiries,
			"breaker.calls": s.CircuitBreaker.Calls, "breaker.failures": s.CircuitBreaker.Failures,
			"breaker.opens": s.CircuitBreaker.Opens, "breaker.rejections": s.CircuitBreaker.Rejections,
		} {
			out[name+"."+k] = v
		}
	}
	for name, l := range h.Steps {
		out[name+".latency.count"] = l.Count
	}
	return out
}

// TestCountersNeverGoBackAcrossConfigurations: configuration changes that
// replace components (the object pool, breakers with new settings, caches
// of a new size, the telemetry, monitor, limiter and error classifier
// turned off and on or rebuilt) keep what those counted, in both engines,
// so an exporter's counters never go down.
func TestCountersNeverGoBackAcrossConfigurations(t *testing.T) {
	ctx := context.Background()
	clock := flujo.WithClock(runtime.SystemClock{})
	core, err := flujo.NewExecutorCoreFromFile(filepath.Join("testdata", "stress", "flujo.json"), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := stress.NewQuietSeqExecutor(clock)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	type executor interface {
		OptimizationStats() runtime.Stats
		LatencyHistograms() runtime.LatencyHistograms
		ImportConfig([]byte, string) error
	}
	engines := []struct {
		name string
		exec executor
		run  func(stress.Item)
	}{
		{"ExecutorCore", core, func(it stress.Item) {
			_, _ = core.Execute(ctx, stress.QuietSeq, it, flujo.WithState(&stress.State{}))
		}},
		{"generated", gen, func(it stress.Item) { _, _ = gen.Execute(ctx, it, &stress.State{}) }},
	}
	changes := []string{
		`{"circuit_breaker_failure_threshold": 2, "cache_max_size": 2}`,
		`{"circuit_breaker_failure_threshold": 3, "circuit_breaker_recovery_timeout_seconds": 7}`,
		`{"cache_max_size": 3, "cache_ttl_seconds": 60}`,
		`{"object_pool_max_size": 5}`,
		`{"enable_performance_monitoring": false}`,
		`{"enable_optimized_telemetry": false, "enable_optimized_error_handling": false, "max_concurrent_executions": 3}`,
		`{"enable_optimized_telemetry": true, "enable_optimized_error_handling": true, "error_cache_size": 9}`,
		`{"enable_performance_monitoring": true, "slow_execution_threshold_ms": 9}`,
	}
	for _, e := range engines {
		work := func(round int) {
			for i := range 6 {
				e.run(stress.Item{ID: round*10 + i%4}) // repeats hit the cache, the rest evict
			}
			for i := range 4 { // enough failures in a row to open qa's breaker
				e.run(stress.Item{ID: i, Mode: stress.FailA})
			}
		}
		read := func() map[string]uint64 { return cumulative(e.exec.OptimizationStats(), e.exec.LatencyHistograms()) }
		work(0)
		if err := e.exec.ImportConfig([]byte(changes[0]), "json"); err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		work(1)
		prev := read()
		for _, must := range []string{"pool.gets", "qa.breaker.opens", "qa.breaker.rejections", "qc.cache.evictions", "qc.cache.hits", "telemetry.recorded", "qa.latency.count"} {
			if prev[must] == 0 {
				t.Fatalf("%s: %s is 0 before the changes; the test needs it counted", e.name, must)
			}
		}
		for round, change := range changes[1:] {
			if err := e.exec.ImportConfig([]byte(change), "json"); err != nil {
				t.Fatalf("%s: %s: %v", e.name, change, err)
			}
			for _, when := range []string{"right after", "after runs"} {
				if when == "after runs" {
					work(round + 2)
				}
				now := read()
				for k, v := range prev {
					if now[k] < v {
						t.Errorf("%s: %s: %s %s is %d, was %d", e.name, change, when, k, now[k], v)
					}
				}
				prev = now
			}
		}
	}
}
