package gen

import (
	"errors"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
)

func generateOne(t *testing.T, root *analysis.Node, mutate func(*schema.Config)) (string, error) {
	t.Helper()
	b := newMB()
	p := b.pipe("P", root)
	m, pkg := b.model(ftPath, "flujotest", p)
	cfg := schema.Default()
	if mutate != nil {
		mutate(cfg)
	}
	out, err := Generate(m, pkg, cfg)
	return string(out), err
}

func TestUnsupportedIsAnError(t *testing.T) {
	b := newMB()
	cached := b.leaf(analysis.KindStep, "tags", "Tags", job, "[]string", func(o *analysis.Options) { o.Cache = true })
	_, err := generateOne(t, cached, func(c *schema.Config) { c.Optimization.EnableCacheOptimization = true })
	var errs Errors
	if !errors.As(err, &errs) || !strings.Contains(err.Error(), "steps.go:1:1: flujogen does not yet support result caching") {
		t.Errorf("err %v, want a positioned unsupported error", err)
	}
	// With caching off in the config, Cache() leaves no code and is fine.
	if out, err := generateOne(t, cached, nil); err != nil || strings.Contains(out, "cache") {
		t.Errorf("cache off: err %v, cache code present: %v", err, strings.Contains(out, "cache"))
	}
}

func TestDisabledOptimizationsLeaveNoCode(t *testing.T) {
	b := newMB()
	step := b.step("flaky", "Flaky", retries(2))
	on, err := generateOne(t, step, nil)
	if err != nil {
		t.Fatal(err)
	}
	off, err := generateOne(t, step, func(c *schema.Config) {
		o := &c.Optimization
		o.EnableCircuitBreaker, o.EnableOptimizedErrorHandling = false, false
		o.EnablePerformanceMonitoring, o.EnableOptimizedTelemetry = false, false
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"runtime.Breaker", ".Allow()", "classifier", "start := e.clock.Nanotime()", "e.record("} {
		if !strings.Contains(on, marker) {
			t.Errorf("defaults: %q missing", marker)
		}
		if strings.Contains(off, marker) {
			t.Errorf("disabled: %q still generated", marker)
		}
	}
}

func TestOverridesCompileIn(t *testing.T) {
	b := newMB()
	step := b.step("flaky", "Flaky", retries(2))
	three, seven := 3, 7
	out, err := generateOne(t, step, func(c *schema.Config) {
		c.Steps = map[string]schema.StepOverride{"flaky.flaky": {Retries: &three, CircuitBreakerFailureThreshold: &seven}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "attempt <= 4") || !strings.Contains(out, "FailureThreshold: 7") {
		t.Errorf("the step override did not reach the generated constants")
	}
}
