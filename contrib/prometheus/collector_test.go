package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/flujo/flujo"
	flujoprom "github.com/flujo/flujo/contrib/prometheus"
	"github.com/flujo/flujo/examples/hello"
	"github.com/flujo/flujo/internal/sharedtest"
	"github.com/flujo/flujo/runtime"
)

// newCore returns an ExecutorCore on a fake clock, closed with the test.
func newCore(t *testing.T, mutate func(*runtime.OptimizationConfig)) (*flujo.ExecutorCore, *runtime.FakeClock) {
	t.Helper()
	cfg := runtime.DefaultOptimizationConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	clock := runtime.NewFakeClock(time.Hour)
	core, err := flujo.NewExecutorCore(cfg, flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := core.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return core, clock
}

// scenarioConfig is the configuration runScenario expects: caching on,
// breakers that open after two failures, a slow threshold of 5ms.
func scenarioConfig(c *runtime.OptimizationConfig) {
	c.EnableCacheOptimization, c.CircuitBreakerFailureThreshold, c.SlowExecutionThresholdMs = true, 2, 5
}

// runScenario runs, on core, a cached step (two hits, two misses), a step
// that fails until its breaker opens and rejects, and a step that recovers
// on its retry.
func runScenario(t *testing.T, core *flujo.ExecutorCore, clock *runtime.FakeClock) {
	t.Helper()
	ctx := context.Background()
	lookup := flujo.Step("lookup", func(_ context.Context, s string) (string, error) {
		clock.Advance(2 * time.Millisecond)
		return s, nil
	}, flujo.Cache())
	flaky := flujo.Step("flaky", func(_ context.Context, s string) (string, error) {
		clock.Advance(10 * time.Millisecond)
		return "", errors.New("upstream down")
	}, flujo.Retries(0))
	calls := 0
	retry := flujo.Step("retry", func(_ context.Context, s string) (string, error) {
		clock.Advance(time.Millisecond)
		if calls++; calls == 1 {
			return "", errors.New("blip")
		}
		return s, nil
	}, flujo.Retries(1))
	for _, in := range []string{"a", "a", "b"} {
		if _, err := core.Execute(ctx, lookup, in); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := core.Execute(ctx, flaky, "x"); err == nil {
			t.Fatal("flaky step succeeded")
		}
	}
	if _, err := core.Execute(ctx, flujo.Pipeline("p", lookup, retry), "a"); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorExecutorCore(t *testing.T) {
	core, clock := newCore(t, scenarioConfig)
	runScenario(t, core, clock)
	c := flujoprom.MustNewCollector("orders", core)

	const want = `
# HELP flujo_runs_total Finished runs, by outcome.
# TYPE flujo_runs_total counter
flujo_runs_total{outcome="failure",pipeline="orders"} 3
flujo_runs_total{outcome="success",pipeline="orders"} 4
# HELP flujo_slow_runs_total Runs slower than slow_execution_threshold_ms.
# TYPE flujo_slow_runs_total counter
flujo_slow_runs_total{pipeline="orders"} 2
# HELP flujo_step_executions_total Finished step executions, by outcome; breaker rejections are failures.
# TYPE flujo_step_executions_total counter
flujo_step_executions_total{outcome="failure",pipeline="orders",step="flaky"} 3
flujo_step_executions_total{outcome="failure",pipeline="orders",step="lookup"} 0
flujo_step_executions_total{outcome="failure",pipeline="orders",step="retry"} 0
flujo_step_executions_total{outcome="success",pipeline="orders",step="flaky"} 0
flujo_step_executions_total{outcome="success",pipeline="orders",step="lookup"} 4
flujo_step_executions_total{outcome="success",pipeline="orders",step="retry"} 1
# HELP flujo_step_retries_total Step attempts after the first.
# TYPE flujo_step_retries_total counter
flujo_step_retries_total{pipeline="orders",step="flaky"} 0
flujo_step_retries_total{pipeline="orders",step="lookup"} 0
flujo_step_retries_total{pipeline="orders",step="retry"} 1
# HELP flujo_step_recoveries_total Step executions that recovered from a failed attempt.
# TYPE flujo_step_recoveries_total counter
flujo_step_recoveries_total{pipeline="orders",step="flaky"} 0
flujo_step_recoveries_total{pipeline="orders",step="lookup"} 0
flujo_step_recoveries_total{pipeline="orders",step="retry"} 1
# HELP flujo_cache_hits_total Result cache lookups that found a result.
# TYPE flujo_cache_hits_total counter
flujo_cache_hits_total{pipeline="orders",step="lookup"} 2
# HELP flujo_cache_misses_total Result cache lookups that found none.
# TYPE flujo_cache_misses_total counter
flujo_cache_misses_total{pipeline="orders",step="lookup"} 2
# HELP flujo_cache_entries Entries held in the step's result cache.
# TYPE flujo_cache_entries gauge
flujo_cache_entries{pipeline="orders",step="lookup"} 2
# HELP flujo_breaker_state 1 for the step's circuit breaker's current state, 0 for the others.
# TYPE flujo_breaker_state gauge
flujo_breaker_state{pipeline="orders",state="closed",step="flaky"} 0
flujo_breaker_state{pipeline="orders",state="closed",step="lookup"} 1
flujo_breaker_state{pipeline="orders",state="closed",step="retry"} 1
flujo_breaker_state{pipeline="orders",state="half_open",step="flaky"} 0
flujo_breaker_state{pipeline="orders",state="half_open",step="lookup"} 0
flujo_breaker_state{pipeline="orders",state="half_open",step="retry"} 0
flujo_breaker_state{pipeline="orders",state="open",step="flaky"} 1
flujo_breaker_state{pipeline="orders",state="open",step="lookup"} 0
flujo_breaker_state{pipeline="orders",state="open",step="retry"} 0
# HELP flujo_breaker_opens_total Transitions of the step's circuit breaker to open.
# TYPE flujo_breaker_opens_total counter
flujo_breaker_opens_total{pipeline="orders",step="flaky"} 1
flujo_breaker_opens_total{pipeline="orders",step="lookup"} 0
flujo_breaker_opens_total{pipeline="orders",step="retry"} 0
# HELP flujo_breaker_rejections_total Calls the step's circuit breaker refused while open.
# TYPE flujo_breaker_rejections_total counter
flujo_breaker_rejections_total{pipeline="orders",step="flaky"} 1
flujo_breaker_rejections_total{pipeline="orders",step="lookup"} 0
flujo_breaker_rejections_total{pipeline="orders",step="retry"} 0
# HELP flujo_limiter_in_flight Executions holding a concurrency permit now.
# TYPE flujo_limiter_in_flight gauge
flujo_limiter_in_flight{pipeline="orders"} 0
`
	names := []string{
		"flujo_runs_total", "flujo_slow_runs_total", "flujo_step_executions_total", "flujo_step_retries_total",
		"flujo_step_recoveries_total", "flujo_cache_hits_total", "flujo_cache_misses_total", "flujo_cache_entries",
		"flujo_breaker_state", "flujo_breaker_opens_total", "flujo_breaker_rejections_total", "flujo_limiter_in_flight",
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	// Each step with a monitor has a histogram; the run histogram is
	// always there.
	if n := testutil.CollectAndCount(c, "flujo_step_duration_seconds", "flujo_run_duration_seconds"); n != 4 {
		t.Errorf("%d histograms, want 4 (runs, flaky, lookup, retry)", n)
	}
}

func TestCollectorHistogramsAreExact(t *testing.T) {
	core, clock := newCore(t, func(c *runtime.OptimizationConfig) { c.EnableCircuitBreaker = false })
	// 2^21-1 ns and 2^21 ns lie on either side of the bound 0.002097151.
	var next time.Duration
	step := flujo.Step("call", func(_ context.Context, s string) (string, error) {
		clock.Advance(next)
		return s, nil
	})
	for _, d := range []time.Duration{1<<21 - 1, 1 << 21, 3 * time.Second, 100 * time.Second} {
		next = d
		if _, err := core.Execute(context.Background(), step, "x"); err != nil {
			t.Fatal(err)
		}
	}
	c := flujoprom.MustNewCollector("p", core)
	const want = `
# HELP flujo_step_duration_seconds Latency of the step executions the performance monitor recorded, read from its histogram; bucket bounds are 2^k-1 ns.
# TYPE flujo_step_duration_seconds histogram
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="1.023e-06"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="2.047e-06"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="4.095e-06"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="8.191e-06"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="1.6383e-05"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="3.2767e-05"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="6.5535e-05"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.000131071"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.000262143"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.000524287"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.001048575"} 0
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.002097151"} 1
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.004194303"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.008388607"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.016777215"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.033554431"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.067108863"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.134217727"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.268435455"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="0.536870911"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="1.073741823"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="2.147483647"} 2
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="4.294967295"} 3
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="8.589934591"} 3
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="17.179869183"} 3
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="34.359738367"} 3
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="68.719476735"} 3
flujo_step_duration_seconds_bucket{pipeline="p",step="call",le="+Inf"} 4
flujo_step_duration_seconds_sum{pipeline="p",step="call"} 103.004194303
flujo_step_duration_seconds_count{pipeline="p",step="call"} 4
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "flujo_step_duration_seconds"); err != nil {
		t.Error(err)
	}
	// Each run is the one step: the run histogram holds the same counts.
	runs := strings.NewReplacer("flujo_step_duration_seconds", "flujo_run_duration_seconds", `,step="call"`, "",
		"Latency of the step executions the performance monitor recorded", "Latency of the runs the executor measured (while monitoring, telemetry or the adaptive limiter was on)").Replace(want)
	if err := testutil.CollectAndCompare(c, strings.NewReader(runs), "flujo_run_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// gather returns the text exposition of the named families of c.
func gather(t *testing.T, c prom.Collector, names ...string) string {
	t.Helper()
	b, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCollectorGeneratedExecutorMatchesCore(t *testing.T) {
	ctx := context.Background()
	gen, err := hello.NewGreetingExecutor(flujo.WithClock(runtime.NewFakeClock(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	core, _ := newCore(t, nil)
	for _, in := range []string{" World ", "Ada", "", "Ada"} {
		_, genErr := gen.Execute(ctx, in)
		_, coreErr := core.Execute(ctx, hello.Greeting, in)
		if (genErr == nil) != (coreErr == nil) {
			t.Fatalf("input %q: generated %v, ExecutorCore %v", in, genErr, coreErr)
		}
	}
	gc, cc := flujoprom.MustNewCollector("greeting", gen), flujoprom.MustNewCollector("greeting", core)

	const want = `
# HELP flujo_runs_total Finished runs, by outcome.
# TYPE flujo_runs_total counter
flujo_runs_total{outcome="failure",pipeline="greeting"} 1
flujo_runs_total{outcome="success",pipeline="greeting"} 3
# HELP flujo_step_executions_total Finished step executions, by outcome; breaker rejections are failures.
# TYPE flujo_step_executions_total counter
flujo_step_executions_total{outcome="failure",pipeline="greeting",step="greet"} 1
flujo_step_executions_total{outcome="failure",pipeline="greeting",step="normalize"} 0
flujo_step_executions_total{outcome="success",pipeline="greeting",step="greet"} 3
flujo_step_executions_total{outcome="success",pipeline="greeting",step="normalize"} 4
`
	if err := testutil.CollectAndCompare(gc, strings.NewReader(want), "flujo_runs_total", "flujo_step_executions_total"); err != nil {
		t.Error(err)
	}
	// The engines export the same families with the same values; latencies
	// are 0 on the fake clock, so the histograms agree too.
	names := []string{
		"flujo_runs_total", "flujo_slow_runs_total", "flujo_run_duration_seconds", "flujo_step_executions_total",
		"flujo_step_retries_total", "flujo_step_duration_seconds", "flujo_breaker_state", "flujo_breaker_opens_total",
		"flujo_limiter_limit", "flujo_limiter_max",
	}
	if g, c := gather(t, gc, names...), gather(t, cc, names...); g != c {
		t.Errorf("generated executor exports\n%s\nExecutorCore exports\n%s", g, c)
	}
	if problems, err := testutil.CollectAndLint(gc); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestRegistryScrape(t *testing.T) {
	ctx := context.Background()
	gen, err := hello.NewGreetingExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	core, clock := newCore(t, scenarioConfig)
	runScenario(t, core, clock)
	if _, err := gen.Execute(ctx, "World"); err != nil {
		t.Fatal(err)
	}

	reg := prom.NewPedanticRegistry()
	reg.MustRegister(flujoprom.MustNewCollector("hello", gen), flujoprom.MustNewCollector("orders", core))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text exposition format", ct)
	}
	for _, line := range []string{
		`flujo_runs_total{outcome="success",pipeline="hello"} 1`,
		`flujo_runs_total{outcome="failure",pipeline="orders"} 3`,
		`flujo_cache_hits_total{pipeline="orders",step="lookup"} 2`,
		`flujo_breaker_state{pipeline="orders",state="open",step="flaky"} 1`,
		`flujo_step_duration_seconds_count{pipeline="hello",step="greet"} 1`,
		`# TYPE flujo_run_duration_seconds histogram`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

func TestCollectWhileRunning(t *testing.T) {
	core, _ := newCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization = true })
	step := flujo.Step("s", func(_ context.Context, n int) (int, error) { return n, nil }, flujo.Cache())
	c := flujoprom.MustNewCollector("p", core)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				core.Execute(context.Background(), step, w*1000+i%50)
			}
		})
	}
	for range 20 {
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Fatalf("lint while running: %v %+v", err, problems)
		}
	}
	wg.Wait()
	want := `
# HELP flujo_runs_total Finished runs, by outcome.
# TYPE flujo_runs_total counter
flujo_runs_total{outcome="failure",pipeline="p"} 0
flujo_runs_total{outcome="success",pipeline="p"} 800
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "flujo_runs_total"); err != nil {
		t.Error(err)
	}
}

func TestNewCollectorRejectsBadArguments(t *testing.T) {
	core, _ := newCore(t, nil)
	if _, err := flujoprom.NewCollector("p", nil); err == nil || !strings.Contains(err.Error(), "source is nil") {
		t.Errorf("nil source: %v", err)
	}
	if _, err := flujoprom.NewCollector("", core); err == nil || !strings.Contains(err.Error(), "pipeline name is empty") {
		t.Errorf("empty name: %v", err)
	}
	if _, err := flujoprom.NewCollector("orders\xff", core); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("a name that is not UTF-8: %v", err)
	}
	// Two executors register side by side under their own names.
	reg := prom.NewPedanticRegistry()
	if err := reg.Register(flujoprom.MustNewCollector("a", core)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(flujoprom.MustNewCollector("b", core)); err != nil {
		t.Errorf("a second executor under another name: %v", err)
	}
	if err := reg.Register(flujoprom.MustNewCollector("a", core)); err == nil {
		t.Error("a second collector under the same name registered")
	}
}

// BenchmarkScrape gathers the metrics of an ExecutorCore with 20 steps,
// each with a cache and a breaker: one scrape.
func BenchmarkScrape(b *testing.B) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer core.Close(context.Background())
	for i := range 20 {
		step := flujo.Step(fmt.Sprintf("step%02d", i), func(_ context.Context, n int) (int, error) { return n, nil }, flujo.Cache())
		for n := range 10 {
			core.Execute(context.Background(), step, n)
		}
	}
	reg := prom.NewRegistry()
	reg.MustRegister(flujoprom.MustNewCollector("p", core))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLatencyHistograms reads the histograms of the same executor,
// the part of a scrape the flujo module does.
func BenchmarkLatencyHistograms(b *testing.B) {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer core.Close(context.Background())
	for i := range 20 {
		step := flujo.Step(fmt.Sprintf("step%02d", i), func(_ context.Context, n int) (int, error) { return n, nil })
		core.Execute(context.Background(), step, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		core.LatencyHistograms()
	}
}

// TestCollectorSharedServices: an executor with shared services (here the
// in-memory store the flujo module tests with) exports their figures; one
// without exports none of those series.
func TestCollectorSharedServices(t *testing.T) {
	ctx := context.Background()
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	core, err := flujo.NewExecutorCore(cfg, flujo.WithShared(sharedtest.New().Replica()))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	p := flujo.Pipeline("shared", flujo.Step("double", func(_ context.Context, n int) (int, error) { return 2 * n, nil }, flujo.Cache()))
	for range 2 { // a miss in both caches, then a hit in the local one
		if _, err := core.Execute(ctx, p, 21); err != nil {
			t.Fatal(err)
		}
	}
	const want = `
# HELP flujo_shared_cache_lookups_total Second-level (shared) cache lookups, by result: hit or miss.
# TYPE flujo_shared_cache_lookups_total counter
flujo_shared_cache_lookups_total{pipeline="shared",result="hit"} 0
flujo_shared_cache_lookups_total{pipeline="shared",result="miss"} 1
# HELP flujo_shared_degraded_calls_total Calls to the shared store that failed or timed out; the executor used its local state instead.
# TYPE flujo_shared_degraded_calls_total counter
flujo_shared_degraded_calls_total{pipeline="shared"} 0
# HELP flujo_shared_store_healthy 1 when the last call to the shared store (Redis or Valkey, WithShared) succeeded.
# TYPE flujo_shared_store_healthy gauge
flujo_shared_store_healthy{pipeline="shared"} 1
`
	c := flujoprom.MustNewCollector("shared", core)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "flujo_shared_cache_lookups_total", "flujo_shared_degraded_calls_total", "flujo_shared_store_healthy"); err != nil {
		t.Error(err)
	}

	plain, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(ctx)
	if n := testutil.CollectAndCount(flujoprom.MustNewCollector("plain", plain), "flujo_shared_calls_total", "flujo_shared_store_healthy"); n != 0 {
		t.Errorf("an executor without shared services exports %d shared series; want none", n)
	}
}

// counterSamples gathers reg and returns the value of every counter
// series and of every histogram's count and buckets, by series.
func counterSamples(t *testing.T, reg *prom.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			series := f.GetName()
			for _, l := range m.GetLabel() { // sorted by name
				series += fmt.Sprintf(" %s=%q", l.GetName(), l.GetValue())
			}
			switch {
			case m.Counter != nil:
				out[series] = m.Counter.GetValue()
			case m.Histogram != nil:
				out[series+" count"] = float64(m.Histogram.GetSampleCount())
				for _, b := range m.Histogram.GetBucket() {
					out[fmt.Sprintf("%s le=%g", series, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

// TestCountersNeverGoBack: across configuration changes that replace the
// executor's components (breakers with new settings or none, caches of a
// new size, the object pool, the telemetry and the monitor turned off and
// on), every counter series keeps its value or grows, and none vanishes.
func TestCountersNeverGoBack(t *testing.T) {
	core, clock := newCore(t, scenarioConfig)
	reg := prom.NewRegistry()
	reg.MustRegister(flujoprom.MustNewCollector("orders", core))
	fan := flujo.Parallel("fan", func(a, b string) string { return a + b },
		flujo.Step("left", func(_ context.Context, s string) (string, error) { return s, nil }),
		flujo.Step("right", func(_ context.Context, s string) (string, error) { return s, nil }))
	work := func() {
		runScenario(t, core, clock)
		if _, err := core.Execute(context.Background(), fan, "x"); err != nil {
			t.Fatal(err)
		}
	}
	work()
	prev := counterSamples(t, reg)
	for _, must := range []string{
		`flujo_breaker_opens_total pipeline="orders" step="flaky"`,
		`flujo_pool_gets_total pipeline="orders"`,
		`flujo_telemetry_recorded_total pipeline="orders"`,
	} {
		if prev[must] == 0 {
			t.Fatalf("%s is 0 before the changes; the test needs it counted", must)
		}
	}
	for _, change := range []string{
		`{"circuit_breaker_failure_threshold": 3}`,
		`{"enable_circuit_breaker": false}`,
		`{"enable_circuit_breaker": true, "cache_max_size": 10}`,
		`{"object_pool_max_size": 10}`,
		`{"enable_performance_monitoring": false, "enable_optimized_telemetry": false}`,
		`{"enable_performance_monitoring": true, "enable_optimized_telemetry": true}`,
	} {
		if err := core.ImportConfig([]byte(change), "json"); err != nil {
			t.Fatal(err)
		}
		for _, when := range []string{"right after", "after more runs"} {
			if when != "right after" {
				work()
			}
			now := counterSamples(t, reg)
			for series, v := range prev {
				if w, ok := now[series]; !ok || w < v {
					t.Errorf("%s %s: %s is %v (present: %v), was %v", change, when, series, w, ok, v)
				}
			}
			prev = now
		}
	}
}

// TestStepNamesThatAreNotUTF8: the DSL takes any step name, and a label
// value must be valid UTF-8: a step named with invalid bytes gets U+FFFD
// in their place, and the scrape, of every other series too, still works.
func TestStepNamesThatAreNotUTF8(t *testing.T) {
	core, _ := newCore(t, nil)
	step := flujo.Step("lookup\xff", func(_ context.Context, s string) (string, error) { return s, nil })
	if _, err := core.Execute(context.Background(), step, "x"); err != nil {
		t.Fatal(err)
	}
	reg := prom.NewPedanticRegistry()
	reg.MustRegister(flujoprom.MustNewCollector("orders", core))
	want := `
# HELP flujo_step_executions_total Finished step executions, by outcome; breaker rejections are failures.
# TYPE flujo_step_executions_total counter
flujo_step_executions_total{outcome="failure",pipeline="orders",step="lookup�"} 0
flujo_step_executions_total{outcome="success",pipeline="orders",step="lookup�"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flujo_step_executions_total"); err != nil {
		t.Error(err)
	}
}
