package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/fallback"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

// BenchmarkExecutor runs a one-step pipeline of a trivial step: through the
// dynamic ExecutorCore with the default configuration, as a direct call, and
// through failsafe-go with a fallback, a retry policy and a circuit breaker
// composed, the nearest a Go user gets to the same guarantees without flujo.
func BenchmarkExecutor(b *testing.B) {
	ctx := context.Background()

	b.Run("one-step/direct", func(b *testing.B) {
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = benchStep(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/flujo", func(b *testing.B) {
		c, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		p := flujo.Pipeline("one", flujo.Step("inc", benchStep))
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			if x, _, err = flujo.Run[int](ctx, c, p, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/failsafe", func(b *testing.B) {
		exec := failsafe.With[int](
			fallback.NewWithResult(0),
			retrypolicy.NewBuilder[int]().WithMaxRetries(1).WithBackoff(10*time.Millisecond, time.Second).Build(),
			circuitbreaker.NewBuilder[int]().WithFailureThreshold(breakerThreshold).WithDelay(breakerRecovery).Build(),
		).WithContext(ctx)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = exec.Get(func() (int, error) { return benchStep(ctx, x) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
