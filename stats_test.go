package flujo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

func TestOptimizationStatsFromLiveCounters(t *testing.T) {
	c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) {
		c.EnableCacheOptimization, c.CircuitBreakerFailureThreshold, c.SlowExecutionThresholdMs = true, 2, 5
	})
	cached := Step("cached", func(_ context.Context, s string) (string, error) { clock.Advance(10 * time.Millisecond); return s, nil }, Cache())
	failing := Step("failing", func(_ context.Context, s string) (string, error) { return "", errors.New("down") }, Retries(0))
	for _, in := range []string{"a", "a", "b"} {
		c.Execute(context.Background(), cached, in)
	}
	for range 3 {
		c.Execute(context.Background(), failing, "x")
	}
	s := c.OptimizationStats()
	cs, fs := s.Steps["cached"], s.Steps["failing"]
	if cs.Execution.Count != 3 || cs.Cache.Hits != 1 || cs.Cache.Misses != 2 || cs.Execution.Slow != 2 {
		t.Errorf("cached step: %+v", cs)
	}
	if s.Cache.Hits != 1 || s.Cache.Size != 2 || s.Cache.Capacity != 500 {
		t.Errorf("cache: %+v", s.Cache)
	}
	if fs.Errors.Failures != 3 || fs.CircuitBreaker.Opens != 1 || fs.CircuitBreaker.Rejections != 1 ||
		fs.CircuitBreaker.State != runtime.StatsBreakerOpen {
		t.Errorf("failing step: %+v", fs)
	}
	if s.Execution.Count != 6 || s.Execution.Failures != 3 || s.Errors.Failures != 3 || s.Execution.Slow != 2 || s.Memory.UsageMB <= 0 {
		t.Errorf("totals: execution %+v errors %+v", s.Execution, s.Errors)
	}
	if !s.Config.Equal(c.OptimizationConfig()) {
		t.Error("stats config differs from the config in force")
	}
	b, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"hit_rate"`) {
		t.Errorf("json: %v %s", err, b)
	}
}

func TestLatencyHistogramsReadTheMonitor(t *testing.T) {
	c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCircuitBreaker = false })
	fast := Step("fast", func(_ context.Context, s string) (string, error) {
		clock.Advance(1500 * time.Microsecond)
		return s, nil
	})
	slow := Step("slow", func(_ context.Context, s string) (string, error) { clock.Advance(3 * time.Second); return s, nil })
	p := Pipeline("p", fast, slow)
	c.Execute(context.Background(), p, "a")
	c.Execute(context.Background(), fast, "b")

	// A new slow threshold replaces the monitor: what the old one
	// recorded stays in the histograms.
	if err := c.ImportConfig([]byte(`{"slow_execution_threshold_ms": 2000}`), "json"); err != nil {
		t.Fatal(err)
	}
	c.Execute(context.Background(), fast, "c")

	bounds := runtime.LatencyBucketBounds()
	le := func(l runtime.LatencyBuckets, d time.Duration) uint64 {
		for i, b := range bounds {
			if b >= d {
				return l.Cumulative[i]
			}
		}
		return l.Count
	}
	h := c.LatencyHistograms()
	f := h.Steps["fast"]
	if f.Count != 3 || f.Sum != 4500*time.Microsecond || le(f, time.Millisecond) != 0 || le(f, 2*time.Millisecond) != 3 {
		t.Errorf("fast = %+v, want three latencies of 1.5ms", f)
	}
	sl := h.Steps["slow"]
	if sl.Count != 1 || sl.Sum != 3*time.Second || le(sl, 2*time.Second) != 0 || le(sl, 4*time.Second) != 1 {
		t.Errorf("slow = %+v, want one latency of 3s", sl)
	}
	if r := h.Runs; r.Count != 3 || r.Sum != 3*time.Second+4500*time.Microsecond || le(r, 2*time.Millisecond) != 2 {
		t.Errorf("runs = %+v, want two of 1.5ms and one of 3.0015s", r)
	}
	if st := c.OptimizationStats(); st.Steps["fast"].Execution.Count != f.Count {
		t.Errorf("stats count %d executions of fast, the histogram %d", st.Steps["fast"].Execution.Count, f.Count)
	}
}

func TestRecommendationsFollowCounters(t *testing.T) {
	c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCircuitBreaker = false })
	if r := c.PerformanceRecommendations(); r != nil {
		t.Fatalf("idle executor got advice: %+v", r)
	}
	failing := Step("failing", func(_ context.Context, s string) (string, error) { return "", errors.New("down") })
	for range 60 {
		c.Execute(context.Background(), failing, "x")
	}
	recs := c.PerformanceRecommendations()
	if len(recs) == 0 {
		t.Fatal("no advice after 60 failing runs")
	}
	found := false
	for _, r := range recs {
		found = found || strings.Contains(r.Description+r.ID, "error")
	}
	if !found {
		t.Errorf("no error-rate advice: %+v", recs)
	}
}

func TestFlagAutomaticOptimization(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, on := range []bool{true, false} {
		cfg := runtime.DefaultOptimizationConfig()
		cfg.EnableAutomaticOptimization = on
		cfg.EnableCacheOptimization = true
		tick := make(chan time.Time)
		c, err := NewExecutorCore(cfg, WithClock(runtime.NewFakeClock(0)), func(o *options.Core) { o.TunerTick = tick })
		if err != nil {
			t.Fatal(err)
		}
		if running := c.svc.TunerRunning(); running != on {
			t.Errorf("enable_automatic_optimization=%v: tuner running %v", on, running)
		}
		if on {
			// The tuner applies run-time changes through the executor.
			if err := c.svc.ApplyTuning("telemetry_batch_size", 40); err != nil || c.OptimizationConfig().TelemetryBatchSize != 40 {
				t.Errorf("apply: %v", err)
			}
			if err := c.svc.ApplyTuning(runtime.CacheAdmissionAction, false); err != nil || !c.OptimizationStats().Cache.AdmissionPaused {
				t.Errorf("cache admission: %v", err)
			}
			tick <- time.Now()
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStepStatsSurviveMonitorChanges: a step's executions, latencies, slow
// executions and failures, which the monitor's histogram counts while
// monitoring is on, are kept when ImportConfig replaces the monitor or
// turns monitoring off, and counted once.
func TestStepStatsSurviveMonitorChanges(t *testing.T) {
	c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) {
		c.EnablePerformanceMonitoring, c.SlowExecutionThresholdMs = true, 5
	})
	fail := false
	step := Step("work", func(_ context.Context, s string) (string, error) {
		clock.Advance(10 * time.Millisecond)
		if fail {
			return "", errors.New("down")
		}
		return s, nil
	}, Retries(0))
	run := func(n int) {
		for range n {
			c.Execute(context.Background(), step, "x")
		}
	}
	want := func(when string, count, slow, failures uint64) {
		t.Helper()
		s := c.OptimizationStats()
		w := s.Steps["work"]
		if w.Execution.Count != count || w.Errors.Executions != count || w.Execution.Slow != slow ||
			w.Errors.Failures != failures || s.Errors.Failures != failures || w.Execution.TotalMs != float64(10*count) || w.Execution.MaxMs != 10 {
			t.Errorf("%s: execution %+v errors %+v; want %d executions of 10 ms, %d slow, %d failures", when, w.Execution, w.Errors, count, slow, failures)
		}
	}
	run(2)
	want("monitored", 2, 2, 0)
	// A new slow threshold builds a new monitor.
	if err := c.ImportConfig([]byte(`{"slow_execution_threshold_ms": 50}`), "json"); err != nil {
		t.Fatal(err)
	}
	fail = true
	run(3)
	want("after a new monitor", 5, 2, 3)
	if err := c.ImportConfig([]byte(`{"enable_performance_monitoring": false, "slow_execution_threshold_ms": 5}`), "json"); err != nil {
		t.Fatal(err)
	}
	fail = false
	run(1)
	want("without monitoring", 6, 3, 3)
	if err := c.ImportConfig([]byte(`{"enable_performance_monitoring": true}`), "json"); err != nil {
		t.Fatal(err)
	}
	run(1)
	want("monitored again", 7, 4, 3)
}
