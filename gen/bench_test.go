package gen

import (
	"context"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/hashing"
	"github.com/flujo/flujo/gen/testdata/hashing/quiet"
	"github.com/flujo/flujo/runtime"
)

// BenchmarkOneStep compares a one-step pipeline on its generated executor
// (the configuration of testdata/hashing: defaults with caching on, which
// the step does not use; and without monitoring and telemetry), on the
// ExecutorCore, and the step function called directly.
func BenchmarkOneStep(b *testing.B) {
	ctx := context.Background()
	k := hashing.Key{Name: "abc", N: 1}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hashing.Lookup(ctx, k)
		}
	})
	b.Run("generated", func(b *testing.B) {
		e, err := hashing.NewPlainExecutor()
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			e.Execute(ctx, k)
		}
	})
	b.Run("generated-unmonitored", func(b *testing.B) {
		e, err := quiet.NewPlainExecutor()
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			e.Execute(ctx, k)
		}
	})
	b.Run("core", func(b *testing.B) {
		cfg := runtime.DefaultOptimizationConfig()
		cfg.EnableCacheOptimization = true
		core, err := flujo.NewExecutorCore(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer core.Close(ctx)
		b.ReportAllocs()
		for b.Loop() {
			core.Execute(ctx, hashing.Plain, k)
		}
	})
}
