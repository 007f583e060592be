package flujo

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flujo.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWithConfigFileErrorsNameFileAndProblem(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "flujo.json")
	if _, err := NewExecutorCoreFromFile(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	for doc, want := range map[string][]string{
		`{"steps": {"fulfil.price": {"retries": 1001}}}`:                             {"/steps/fulfil.price/retries: must be >= 0 and <= 1000, got 1001"},
		`{"steps": {"fulfil.price": {"timeout": "25h"}}}`:                            {"/steps/fulfil.price/timeout: must be at most 24h"},
		`{"steps": {"fulfil": {"retries": 1}}}`:                                      {`the key must be "<pipeline>.<step>"`},
		`{"optimization": {"cache_ttl_seconds": 0}, "steps": {"a.b": {"retry": 1}}}`: {"/optimization/cache_ttl_seconds: must be >= 1", "/steps/a.b/retry: unknown field"},
		`{"steps": {"a.b": {"retries": 1}, "a.b": {"retries": 2}}}`:                  {`duplicate field "a.b"`},
	} {
		path := writeConfig(t, doc)
		_, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithConfigFile(path))
		var fe *runtime.ConfigFileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a *runtime.ConfigFileError", doc, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q or the file's path", doc, err, w)
			}
		}
	}
	bad := -1
	if _, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithStepOverrides(map[string]runtime.StepOverride{"p.s": {Retries: &bad}})); err == nil ||
		!strings.Contains(err.Error(), "WithStepOverrides: /steps/p.s/retries") {
		t.Errorf("WithStepOverrides with retries -1: %v", err)
	}
}

func TestWithConfigFileReplacesTheConfiguration(t *testing.T) {
	path := writeConfig(t, `{"optimization": {"enable_cache_optimization": true, "cache_ttl_seconds": 7}, "output": "x_gen.go"}`)
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithConfigFile(path))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	want := runtime.DefaultOptimizationConfig()
	want.EnableCacheOptimization, want.CacheTTLSeconds = true, 7
	if got := c.OptimizationConfig(); !got.Equal(want) {
		t.Errorf("configuration %+v, want %+v", got, want)
	}
}

var overrideCalls atomic.Int64

func overrideFail(_ context.Context, n int) (int, error) {
	overrideCalls.Add(1)
	return 0, errors.New("down")
}

func overrideInc(_ context.Context, n int) (int, error) {
	overrideCalls.Add(1)
	return n + 1, nil
}

func overrideState(_ context.Context, n int, st *struct{ N int }) (int, error) { return n, nil }

func TestStepOverridesThatCannotApplyFailExecute(t *testing.T) {
	ctx := context.Background()
	p := Pipeline("fulfil",
		Step("price", overrideInc),
		Pipeline("inner", StepS("count", overrideState)),
	)
	for key, want := range map[string]string{
		"fulfil.prcie": `overrides the step "prcie", which the pipeline does not have; its steps are "count", "price"`,
		"fulfil.inner": `names its pipeline "inner", but overrides apply to Step, StepS and Func nodes only`,
		"fulfil.count": `sets cache for it, but it is a StepS`,
	} {
		on := true
		path := writeConfig(t, `{"steps": {"`+key+`": {"cache": true}}}`)
		c, err := NewExecutorCoreFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		overrideCalls.Store(0)
		res, err := c.Execute(ctx, p, 1)
		var oe *StepOverrideError
		if res != nil || !errors.As(err, &oe) || oe.Key != key || oe.Source != path || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: result %v, error %v; want a *StepOverrideError saying %q", key, res, err, want)
		}
		if n := overrideCalls.Load(); n != 0 {
			t.Errorf("%s: %d step calls before the error", key, n)
		}
		c.Close(ctx)
		// The same override given in code says where it came from.
		c, _ = NewExecutorCore(runtime.DefaultOptimizationConfig(), WithStepOverrides(map[string]runtime.StepOverride{key: {Cache: &on}}))
		if _, err := c.Execute(ctx, p, 1); err == nil || !strings.Contains(err.Error(), "WithStepOverrides: steps.") {
			t.Errorf("%s in code: %v", key, err)
		}
		c.Close(ctx)
	}
	// Keys of other pipelines are left alone: one file serves many.
	c, err := NewExecutorCoreFromFile(writeConfig(t, `{"steps": {"other.step": {"retries": 0}, "fulfilment.x": {"retries": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Execute(ctx, p, 1); err != nil {
		t.Errorf("keys of other pipelines: %v", err)
	}
}

func TestStepOverridesApplyPerPipeline(t *testing.T) {
	ctx := context.Background()
	fail := Step("fail", overrideFail)
	a := Pipeline("a", fail)
	b := Pipeline("b", fail)
	retries, threshold := 4, 7
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableOptimizedErrorHandling = false // retry every failure
	c, err := NewExecutorCore(cfg, WithClock(runtime.NewFakeClock(time.Hour)),
		WithStepOverrides(map[string]runtime.StepOverride{"a.fail": {Retries: &retries, CircuitBreakerFailureThreshold: &threshold}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, _ := c.Execute(ctx, a, 1)
	if got := res.Steps[0].Attempts; got != 5 {
		t.Errorf("a.fail made %d attempts, want 5 (retries 4)", got)
	}
	// Threshold 7 in pipeline a: the 7th failure opens its breaker; b's
	// stays closed.
	res, _ = c.Execute(ctx, a, 1)
	var open *CircuitOpenError
	if !errors.As(res.Steps[0].Err, &open) || res.Steps[0].Attempts != 2 {
		t.Errorf("a.fail after 5 failures: %d attempts, %v; want 2, then its breaker open", res.Steps[0].Attempts, res.Steps[0].Err)
	}
	res, _ = c.Execute(ctx, b, 1)
	if got := res.Steps[0].Attempts; got != 2 || errors.As(res.Steps[0].Err, &open) {
		t.Errorf("b.fail: %d attempts, error %v; want the declared 2 attempts under its own breaker", got, res.Steps[0].Err)
	}
	// A new configuration keeps the overrides: they replace its values.
	if err := c.ImportConfig([]byte(`{"circuit_breaker_failure_threshold": 50}`), "json"); err != nil {
		t.Fatal(err)
	}
	res, _ = c.Execute(ctx, a, 1)
	res, _ = c.Execute(ctx, a, 1)
	if !errors.As(res.Steps[0].Err, &open) {
		t.Errorf("a.fail after ImportConfig: %v, want its breaker open again (threshold 7 still)", res.Steps[0].Err)
	}
}

func TestStepOverrideCacheAndTTL(t *testing.T) {
	ctx := context.Background()
	clock := runtime.NewFakeClock(time.Hour)
	p := Pipeline("p", Step("inc", overrideInc), Step("off", overrideInc, Cache()))
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithClock(clock),
		WithConfigFile(writeConfig(t, `{"optimization": {"enable_cache_optimization": true, "cache_ttl_seconds": 3600},
			"steps": {"p.inc": {"cache": true, "cache_ttl_seconds": 60}, "p.off": {"cache": false}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	hits := func() (inc, off bool) {
		res, err := c.Execute(ctx, p, 1)
		if err != nil {
			t.Fatal(err)
		}
		return res.Steps[0].CacheHit, res.Steps[1].CacheHit
	}
	hits()
	if inc, off := hits(); !inc || off {
		t.Errorf("hits: inc %v (cache turned on), off %v (turned off)", inc, off)
	}
	clock.Advance(59 * time.Second)
	if inc, _ := hits(); !inc {
		t.Error("inc missed before its 60s TTL")
	}
	clock.Advance(2 * time.Second)
	if inc, _ := hits(); inc {
		t.Error("inc hit after its 60s TTL (the configuration's is 3600s)")
	}
}

func TestWithConfigFileRecordsTheDistributedSection(t *testing.T) {
	const pw = "s3cr3t-pa55"
	path := writeConfig(t, `{"distributed": {"address": "redis://app:`+pw+`@cache.internal:6379/0", "command_timeout_ms": 20, "budgets": false}}`)
	set := options.ApplyCore([]CoreOption{WithConfigFile(path)})
	if len(set.Errs) > 0 {
		t.Fatal(set.Errs)
	}
	want := runtime.DefaultDistributedConfig()
	want.Address, want.CommandTimeoutMs, want.Budgets = "redis://app:"+pw+"@cache.internal:6379/0", 20, false
	if set.Distributed == nil || *set.Distributed != want {
		t.Errorf("Distributed = %#v, want %#v", set.Distributed, want)
	}
	if set := options.ApplyCore([]CoreOption{WithConfigFile(writeConfig(t, `{}`))}); set.Distributed != nil {
		t.Errorf("a file without the section records %#v", set.Distributed)
	}
	// The executor exports its optimization configuration only.
	c, err := NewExecutorCoreFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	out, err := c.ExportConfig("json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), pw) || strings.Contains(string(out), "cache.internal") {
		t.Errorf("ExportConfig shows the distributed section:\n%s", out)
	}
	// A broken section names the problem, not the password.
	bad := writeConfig(t, `{"distributed": {"address": "redis://app:`+pw+`@cache.internal:99999", "address_env": "REDIS_URL"}}`)
	_, err = NewExecutorCoreFromFile(bad)
	var fe *runtime.ConfigFileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "/distributed/address: ") || strings.Contains(err.Error(), pw) {
		t.Errorf("broken section: %v", err)
	}
}
