package gen

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/overrides"
	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

// overridesConfig is the flujo.json of testdata/overrides, which both
// engines load.
var overridesConfig = filepath.Join("testdata", "overrides", "flujo.json")

// TestGoldenOverrides generates testdata/overrides under its flujo.json,
// whose step overrides change every setting they may change.
func TestGoldenOverrides(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./gen/testdata/overrides"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Load(overridesConfig)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(m, m.Packages[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "overrides", "flujo_gen.go"), out)
}

// TestOverridesSameOnBothEngines: the ExecutorCore loaded from
// testdata/overrides/flujo.json (flujo.WithConfigFile) and the executor
// generated from the same file give the same results and step histories
// run by run: attempts, cache hits, timeouts, breaker rejections and
// feedback, every one of them changed by a step override.
func TestOverridesSameOnBothEngines(t *testing.T) {
	ctx := context.Background()
	runs := []struct {
		in      overrides.Order
		advance time.Duration // clock advance before the run
	}{
		{in: overrides.Order{ID: "a"}},
		{in: overrides.Order{ID: "a"}},                   // ship: a hit (cache turned on); quote: no hit (turned off)
		{in: overrides.Order{ID: "b", PriceFailures: 3}}, // price: 4 attempts (retries 3), success
		{in: overrides.Order{ID: "c", PriceFailures: 9}}, // price: fails after 4 attempts
		{in: overrides.Order{ID: "d", Block: true}},      // pack: times out after 5ms, 1 attempt
		{in: overrides.Order{ID: "e", NotifyFails: true}},
		{in: overrides.Order{ID: "e", NotifyFails: true}},         // notify's breaker opens (threshold 2)
		{in: overrides.Order{ID: "f"}},                            // notify: rejected
		{in: overrides.Order{ID: "g"}, advance: 31 * time.Second}, // recovery 30s: a probe, which closes it
	}
	type outcome struct {
		res   *flujo.PipelineResult
		err   error
		calls map[string]int
	}
	play := func(run func(context.Context, overrides.Order) (*flujo.PipelineResult, error), clock *runtime.FakeClock) []outcome {
		overrides.Reset()
		var out []outcome
		for _, r := range runs {
			clock.Advance(r.advance)
			res, err := run(ctx, r.in)
			out = append(out, outcome{res: res, err: err})
			clock.Advance(time.Second)
		}
		calls := map[string]int{}
		for _, s := range []string{"price", "quote", "ship", "pack", "notify"} {
			calls[s] = overrides.Calls(s)
		}
		out[len(out)-1].calls = calls
		return out
	}

	coreClock, genClock := runtime.NewFakeClock(time.Hour), runtime.NewFakeClock(time.Hour)
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig(), flujo.WithConfigFile(overridesConfig), flujo.WithClock(coreClock))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := overrides.NewFulfilExecutor(flujo.WithClock(genClock))
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)

	want := play(func(ctx context.Context, in overrides.Order) (*flujo.PipelineResult, error) {
		return core.Execute(ctx, overrides.Fulfil, in)
	}, coreClock)
	got := play(func(ctx context.Context, in overrides.Order) (*flujo.PipelineResult, error) {
		return gen.ExecuteResult(ctx, in)
	}, genClock)
	for i := range runs {
		if d := diffResults(want[i].res, got[i].res); d != "" || (want[i].err == nil) != (got[i].err == nil) {
			t.Errorf("run %d: errors %v / %v; results differ: %s", i, want[i].err, got[i].err, d)
		}
	}
	if w, g := want[len(runs)-1].calls, got[len(runs)-1].calls; !maps.Equal(w, g) {
		t.Errorf("step calls: ExecutorCore %v, generated %v", w, g)
	}
	if d := diffStats(core.OptimizationStats(), gen.OptimizationStats()); d != "" {
		t.Errorf("stats differ:\n%s", d)
	}

	// The overrides took effect (equal results alone would not show it).
	step := func(run int, name string) flujo.StepResult {
		for _, s := range want[run].res.Steps {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("run %d has no step %q: %+v", run, name, want[run].res.Steps)
		return flujo.StepResult{}
	}
	var open *flujo.CircuitOpenError
	var timeout *flujo.StepTimeoutError
	switch {
	case !step(1, "ship").CacheHit || step(1, "quote").CacheHit:
		t.Errorf("run 1: ship hit %v (want true), quote hit %v (want false)", step(1, "ship").CacheHit, step(1, "quote").CacheHit)
	case step(2, "price").Attempts != 4 || !step(2, "price").Success:
		t.Errorf("run 2: price made %d attempts, success %v; want 4, true", step(2, "price").Attempts, step(2, "price").Success)
	case step(3, "price").Attempts != 4:
		t.Errorf("run 3: price made %d attempts, want 4", step(3, "price").Attempts)
	case !errors.As(step(4, "pack").Err, &timeout) || timeout.Timeout != 5*time.Millisecond || step(4, "pack").Attempts != 1:
		t.Errorf("run 4: pack %+v, want one attempt timed out after 5ms", step(4, "pack"))
	case !errors.As(step(7, "notify").Err, &open):
		t.Errorf("run 7: notify %+v, want its breaker open", step(7, "notify"))
	case !step(8, "notify").Success:
		t.Errorf("run 8: notify %+v, want a successful probe after the recovery timeout", step(8, "notify"))
	}

	// Without the file the ExecutorCore follows the declarations.
	plain, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(ctx)
	overrides.Reset()
	res, _ := plain.Execute(ctx, overrides.Fulfil, runs[2].in)
	if a := res.Steps[0].Attempts; a != 2 {
		t.Errorf("without overrides price made %d attempts, want 2 (the declared Retries)", a)
	}
}

// TestGeneratedExecutorTakesItsConfigFile: a generated executor given
// WithConfigFile starts with the file's run-time fields; a file that changes
// what the executor was generated with, or step overrides other than those
// compiled in, is refused by name, before anything is built.
func TestGeneratedExecutorTakesItsConfigFile(t *testing.T) {
	ctx := context.Background()
	e, err := overrides.NewFulfilExecutor(flujo.WithConfigFile(overridesConfig))
	if err != nil {
		t.Fatalf("the file it was generated from: %v", err)
	}
	e.Close(ctx)

	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data, err := os.ReadFile(overridesConfig)
	if err != nil {
		t.Fatal(err)
	}
	live := write("live.json", strings.Replace(string(data), `"cache_ttl_seconds": 3600,`, `"cache_ttl_seconds": 3600, "slow_execution_threshold_ms": 7, "error_cache_size": 11,`, 1))
	e, err = overrides.NewFulfilExecutor(flujo.WithConfigFile(live))
	if err != nil {
		t.Fatalf("run-time fields changed: %v", err)
	}
	if cfg := e.OptimizationConfig(); cfg.SlowExecutionThresholdMs != 7 || cfg.ErrorCacheSize != 11 {
		t.Errorf("the file's run-time fields did not apply: slow %v, error cache %d", cfg.SlowExecutionThresholdMs, cfg.ErrorCacheSize)
	}
	e.Close(ctx)

	for _, tc := range []struct{ doc, want string }{
		{strings.Replace(string(data), `"enable_cache_optimization": true,`, `"enable_cache_optimization": false,`, 1), "enable_cache_optimization"},
		{strings.Replace(string(data), `"fulfil.price": {"retries": 3}`, `"fulfil.price": {"retries": 4}`, 1), "step overrides given for pipeline \"fulfil\" differ"},
	} {
		if _, err := overrides.NewFulfilExecutor(flujo.WithConfigFile(write("bad.json", tc.doc))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want one naming %q", err, tc.want)
		}
	}
	three := 3
	if _, err := overrides.NewFulfilExecutor(flujo.WithStepOverrides(map[string]runtime.StepOverride{"fulfil.price": {Retries: &three}})); err == nil {
		t.Error("WithStepOverrides with fewer overrides than compiled in was accepted")
	}
}

// TestOwnBreakerKeptAcrossConfigBreakerChange: a step whose override fixes
// its breaker's threshold and recovery keeps its breaker, open or not, when
// ImportConfig changes the configuration's breaker settings, which are not
// its own; and its figures in the stats stay what they were. On both
// engines.
func TestOwnBreakerKeptAcrossConfigBreakerChange(t *testing.T) {
	ctx := context.Background()
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig(), flujo.WithConfigFile(overridesConfig), flujo.WithClock(runtime.NewFakeClock(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := overrides.NewFulfilExecutor(flujo.WithClock(runtime.NewFakeClock(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	engines := []struct {
		name  string
		run   func(overrides.Order) (*flujo.PipelineResult, error)
		apply func([]byte, string) error
		stats func() runtime.Stats
	}{
		{"ExecutorCore", func(in overrides.Order) (*flujo.PipelineResult, error) {
			return core.Execute(ctx, overrides.Fulfil, in)
		}, core.ImportConfig, core.OptimizationStats},
		{"generated", func(in overrides.Order) (*flujo.PipelineResult, error) { return gen.ExecuteResult(ctx, in) }, gen.ImportConfig, gen.OptimizationStats},
	}
	for _, e := range engines {
		overrides.Reset()
		for range 2 { // notify's threshold is 2
			e.run(overrides.Order{ID: "e", NotifyFails: true})
		}
		before := e.stats().Steps["notify"].CircuitBreaker
		if err := e.apply([]byte(`{"circuit_breaker_failure_threshold": 7, "circuit_breaker_recovery_timeout_seconds": 90}`), "json"); err != nil {
			t.Fatalf("%s: ImportConfig: %v", e.name, err)
		}
		if after := e.stats().Steps["notify"].CircuitBreaker; after != before {
			t.Errorf("%s: notify's breaker in the stats went from %+v to %+v across the change; want it unchanged", e.name, before, after)
		}
		res, _ := e.run(overrides.Order{ID: "f"})
		var open *flujo.CircuitOpenError
		var notify flujo.StepResult
		for _, s := range res.Steps {
			if s.Name == "notify" {
				notify = s
			}
		}
		if !errors.As(notify.Err, &open) {
			t.Errorf("%s: after a change of the configuration's breaker settings, notify = %+v; want its own breaker still open", e.name, notify)
		}
	}
	if d := diffStats(core.OptimizationStats(), gen.OptimizationStats()); d != "" {
		t.Errorf("stats differ:\n%s", d)
	}
}
