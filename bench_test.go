package flujo

import (
	"context"
	"testing"

	"github.com/flujo/flujo/runtime"
)

func benchStep(_ context.Context, n int) (int, error) { return n + 1, nil }

// BenchmarkDirectCall is the baseline of BenchmarkOneStepPipeline.
func BenchmarkDirectCall(b *testing.B) {
	ctx := context.Background()
	f := benchStep
	for i := 0; b.Loop(); i++ {
		if _, err := f(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneStepPipeline runs a one-step pipeline with the default
// configuration; the target is at most 1 us/op above BenchmarkDirectCall.
func BenchmarkOneStepPipeline(b *testing.B) {
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	p := Pipeline("one", Step("inc", benchStep))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Execute(ctx, p, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneStepPipelineBare runs the same pipeline with every enable_*
// flag off: the cost of the engine itself, without its components.
func BenchmarkOneStepPipelineBare(b *testing.B) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableObjectPool, cfg.EnableContextOptimization, cfg.EnableMemoryOptimization = false, false, false
	cfg.EnableStepOptimization, cfg.EnableAlgorithmOptimization, cfg.EnableConcurrencyOptimization = false, false, false
	cfg.EnableOptimizedTelemetry, cfg.EnablePerformanceMonitoring = false, false
	cfg.EnableOptimizedErrorHandling, cfg.EnableCircuitBreaker = false, false
	c, err := NewExecutorCore(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	p := Pipeline("one", Step("inc", benchStep))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Execute(ctx, p, i); err != nil {
			b.Fatal(err)
		}
	}
}
