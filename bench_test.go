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
